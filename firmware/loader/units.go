package loader

import (
	"fmt"
	"time"
)

// MB is the unit of the sizes and speeds the firmware prints. Like the reference
// firmware's "546 MB in 7122 ms (76 MB/s)" for its 572,000,000-byte model, an
// "MB" here is 2^20 bytes.
const MB = 1 << 20

// Size formats a byte count for the console: "12 KB", "5.3 MB", "546 MB".
func Size(n int64) string {
	switch {
	case n < MB:
		return fmt.Sprintf("%d KB", (n+1023)>>10)
	case n < 10*MB:
		return fmt.Sprintf("%.1f MB", float64(n)/MB)
	}
	return fmt.Sprintf("%.0f MB", float64(n)/MB)
}

// Rate formats a speed in MB/s ("76 MB/s", "4.2 MB/s"), or "" when d is too
// short to measure.
func Rate(n int64, d time.Duration) string {
	if d <= 0 {
		return ""
	}
	r := float64(n) / MB / d.Seconds()
	if r < 10 {
		return fmt.Sprintf("%.1f MB/s", r)
	}
	return fmt.Sprintf("%.0f MB/s", r)
}
