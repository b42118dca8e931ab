package hf

import (
	"encoding/json"
	"errors"
)

// KV is a GGUF metadata pair; Value has the Go type of its GGUF type (uint32,
// float32, bool, string, []string, []float32, []int32).
type KV struct {
	Key   string
	Value any
}

// jsonObject decodes a JSON object into dst.
func jsonObject(data []byte, dst any) error {
	if err := json.Unmarshal(data, dst); err != nil {
		return errors.New("not a JSON object of the expected kind: " + err.Error())
	}
	return nil
}

// jsonValue decodes raw into dst; absent or null raw is an error.
func jsonValue(raw json.RawMessage, dst any) error {
	if len(raw) == 0 || string(raw) == "null" {
		return errors.New("absent")
	}
	return json.Unmarshal(raw, dst)
}
