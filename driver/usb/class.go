package usb

import "errors"

// ClassDriver drives one kind of interface (mass storage, a keyboard, ...).
// The host controller's driver enumerates and configures the devices; whoever
// assembles the system binds the class drivers it wants to their interfaces
// (Bind), as Circle's device factory does (lib/usb/usbdevicefactory.cpp: the
// host controller hands each interface to the factory, which picks the class
// driver by class, subclass and protocol).
type ClassDriver interface {
	// Match reports whether the driver drives ifc.
	Match(ifc *Interface) bool
	// Bind brings up interface ifc of d, whose bulk endpoints the host has
	// already configured (Enumerate).
	Bind(d *Device, ifc *Interface) error
}

// Bind offers each device's interfaces (the default alternate settings of its
// active configuration) to drivers in order; the first that matches one
// binds it. A bind that fails is logged and joined into err, and the others
// go on: a bad stick must not hide a good one.
func Bind(devs []*Device, drivers ...ClassDriver) error {
	var errs []error
	for _, d := range devs {
		for _, ifc := range d.Interfaces(-1, -1, -1) {
			for _, drv := range drivers {
				if !drv.Match(ifc) {
					continue
				}
				if err := drv.Bind(d, ifc); err != nil {
					logf(d.opt.Log, "%v", err)
					errs = append(errs, err)
				}
				break
			}
		}
	}
	return errors.Join(errs...)
}

// Match reports whether ifc is of class, subclass and protocol (-1 matches
// anything).
func (ifc *Interface) Match(class, subclass, protocol int) bool {
	return (class < 0 || int(ifc.Class) == class) && (subclass < 0 || int(ifc.SubClass) == subclass) &&
		(protocol < 0 || int(ifc.Protocol) == protocol)
}
