package usb

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// recorder is a class driver that takes interfaces of one class and fails
// the binds its fail set names.
type recorder struct {
	class uint8
	fail  map[string]bool
	bound []string
}

func (r *recorder) Match(ifc *Interface) bool { return ifc.Class == r.class }

func (r *recorder) Bind(d *Device, ifc *Interface) error {
	name := fmt.Sprintf("%s/%d", d.Name(), ifc.Number)
	if r.fail[name] {
		return fmt.Errorf("%s: no answer", name)
	}
	r.bound = append(r.bound, name)
	return nil
}

// Every default alternate setting goes to the first driver that matches it;
// interfaces no driver wants and alternate settings are left alone; a failed
// bind is logged, joined into the error, and does not stop the others.
func TestBind(t *testing.T) {
	var log strings.Builder
	dev := func(path string, ifcs ...Interface) *Device {
		return &Device{Loc: Location{Path: path}, Config: &Configuration{Interfaces: ifcs}, opt: &Options{Log: &log}}
	}
	devs := []*Device{
		dev("1", Interface{Number: 0, Class: ClassHub}),
		dev("1.1", Interface{Number: 0, Class: ClassMassStorage}, Interface{Number: 0, Alternate: 1, Class: ClassMassStorage}),
		dev("1.2", Interface{Number: 0, Class: 0x03}, Interface{Number: 1, Class: ClassMassStorage}),
		dev("2", Interface{Number: 0, Class: ClassMassStorage}),
	}
	storage := &recorder{class: ClassMassStorage, fail: map[string]bool{"usb 1.2/1": true}}
	also := &recorder{class: ClassMassStorage}
	hid := &recorder{class: 0x03}
	err := Bind(devs, storage, also, hid)
	if want := []string{"usb 1.1/0", "usb 2/0"}; !reflect.DeepEqual(storage.bound, want) {
		t.Errorf("mass storage bound %q, want %q", storage.bound, want)
	}
	if len(also.bound) != 0 {
		t.Errorf("the second matching driver bound %q", also.bound)
	}
	if want := []string{"usb 1.2/0"}; !reflect.DeepEqual(hid.bound, want) {
		t.Errorf("HID bound %q, want %q", hid.bound, want)
	}
	if err == nil || err.Error() != "usb 1.2/1: no answer" || log.String() != "usb 1.2/1: no answer\n" {
		t.Errorf("err %v, log %q", err, log.String())
	}
	if err := Bind(devs[:2], hid); err != nil {
		t.Errorf("nothing to bind: %v", err)
	}
}
