package engine

import "fmt"

// FormatBytes prints a size for people, as Info's details and the tools'
// messages show sizes: one decimal in the largest binary unit that fits ("1.2
// GB", "150.0 MB", "3.1 KB"), bytes below a KB ("40 B").
func FormatBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
