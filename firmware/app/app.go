// Package app is the firmware as a person at the serial console sees it: the
// banner, the storage start-up log, the model menu, loading with progress, the
// chat (package console, the same loop as the hosted `inferpi chat`), and /exit
// back to the menu with the model's memory returned and the storage started
// again, so another model can be loaded without a reboot.
//
// It is portable: cmd/firmware wires the UART, the storage drivers and the
// kernel's model buffers; the host tests run the very same flow on a FAT32 disk
// image with scripted serial input and a fake allocator.
package app

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/inferpi/inferpi/console"
	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/firmware/loader"
	"github.com/inferpi/inferpi/firmware/models"
	"github.com/inferpi/inferpi/firmware/mount"
	"github.com/inferpi/inferpi/platform/bootlog"
)

// App is the firmware's interactive flow.
type App struct {
	Term Terminal  // the serial line editor
	Out  io.Writer // the terminal; App writes "\r\n" line ends itself
	// InputEnded reports that the terminal's input is over (a hosted run or a
	// test); nil means it never ends (the UART), and a Ctrl-D is ignored at the
	// menu. See WatchEnd.
	InputEnded func() bool

	// Sources are the storage devices in the order they are tried (USB, then SD card).
	Sources []mount.Source
	Alloc   loader.Allocator // memory for model.bin
	Reserve int64            // kept free beyond model.bin (loader.DefaultReserve)

	Banner  string         // printed first, one or more lines
	Options engine.Options // the first chat's settings; later chats keep the user's
	// Info writes a description of the machine for the menu's /info; nil
	// leaves the command out.
	Info func(w io.Writer)
	// Diag runs the board diagnostic for /diag, at the menu and wherever the
	// firmware waits for storage; vol is the storage in use (nil: none). nil
	// leaves the command out.
	Diag func(w io.Writer, vol *mount.Volume)
	// Released runs after a model's memory is freed (the firmware returns the
	// Go heap's free pages to the kernel); may be nil.
	Released func()
	Now      func() time.Time // nil means time.Now
}

// Run shows the menu, loads and chats until the input ends (never, on the
// firmware). Problems with storage, models or input are shown and lead back to
// the menu; Run returns an error only when the terminal fails.
func (a *App) Run() error {
	out := &crlf{w: a.Out}
	in := &lines{term: a.Term, out: out}
	opts := a.Options
	if a.Banner != "" {
		fmt.Fprintln(out, strings.TrimRight(a.Banner, "\n"))
	}
	for {
		vol, list, err := a.startStorage(out)
		bootlog.Step("menu")
		if err != nil {
			fmt.Fprintln(out, err)
			hint := "Insert an SD card (or USB stick) with a FAT32 volume holding models, then press ENTER to try again"
			if a.Diag != nil {
				hint += " (/diag tests the board)"
			}
			fmt.Fprintln(out, hint+".")
			if err := a.waitForStorage(in, out, nil); err != nil {
				return ignoreEnd(err)
			}
			continue
		}
		choice, act, err := a.menu(in, out, vol, list)
		if err != nil {
			vol.Close()
			return ignoreEnd(err)
		}
		if act == actRescan {
			vol.Close()
			continue
		}
		err = a.safeChat(in, out, vol, choice, &opts)
		vol.Close()
		if err != nil {
			return ignoreEnd(err)
		}
	}
}

// startStorage brings up the storage and lists its models.
func (a *App) startStorage(out io.Writer) (*mount.Volume, []models.Model, error) {
	log := bootlog.New(out, "storage")
	found := map[*mount.Volume][]models.Model{}
	hasModels := func(v *mount.Volume) bool {
		list, err := models.Discover(v.FS)
		if err != nil {
			log.Printf("%s: %v", v.Source, err)
		}
		found[v] = list
		return len(list) > 0
	}
	vol, err := mount.Start(a.Sources, out, hasModels)
	if err != nil {
		return nil, nil, err
	}
	log.Printf("reading models from the %s", vol.Source)
	return vol, found[vol], nil
}

// menu shows the models and asks until the answer is a model's number or a
// command that leaves the menu. /context shows it again with the chats' new
// context.
func (a *App) menu(in *lines, out io.Writer, vol *mount.Volume, found []models.Model) (models.Model, menuAction, error) {
	for {
		m, act, err := a.ask(in, out, vol, found)
		if act != actReplan {
			return m, act, err
		}
	}
}

// ask shows the models once and reads answers until one leaves this showing.
func (a *App) ask(in *lines, out io.Writer, vol *mount.Volume, found []models.Model) (models.Model, menuAction, error) {
	fmt.Fprintln(out)
	ok := showMenu(out, vol.Source, found, a.Alloc.Available(), a.Options.Context)
	if len(ok) == 0 {
		return models.Model{}, actRescan, a.waitForStorage(in, out, vol)
	}
	hint := "Type a model's number or name, /context N for chats of up to N positions, /rescan to read the storage again"
	if a.Info != nil {
		hint += ", /info to describe the machine"
	}
	if a.Diag != nil {
		hint += ", /diag to test the board"
	}
	fmt.Fprintln(out, hint+".")
	for {
		fmt.Fprintf(out, MenuPrompt, len(ok))
		line, err := a.readLine(in, out)
		if err != nil {
			return models.Model{}, 0, err
		}
		switch cmd := strings.TrimSpace(line); {
		case cmd == "":
			continue
		case cmd == "/rescan":
			return models.Model{}, actRescan, nil
		case cmd == "/context" || strings.HasPrefix(cmd, "/context "):
			n, problem := contextCommand(strings.TrimSpace(strings.TrimPrefix(cmd, "/context")))
			if problem != "" {
				fmt.Fprintln(out, problem)
				continue
			}
			a.Options.Context = n
			return models.Model{}, actReplan, nil
		case cmd == "/info" && a.Info != nil:
			a.Info(out)
			continue
		case cmd == "/diag" && a.Diag != nil:
			a.Diag(out, vol)
			bootlog.Step("menu")
			continue
		case cmd == "/help" || cmd == "?":
			fmt.Fprintln(out, hint+".")
			continue
		}
		k, problem := choose(line, ok)
		if problem == "" {
			return ok[k], actLoad, nil
		}
		fmt.Fprintln(out, problem)
	}
}

// waitForStorage waits for ENTER before the storage is looked at again,
// running /diag meanwhile if asked (vol: the storage in use, if any).
func (a *App) waitForStorage(in *lines, out io.Writer, vol *mount.Volume) error {
	for {
		line, err := a.readLine(in, out)
		if err != nil || strings.TrimSpace(line) != "/diag" || a.Diag == nil {
			return err
		}
		a.Diag(out, vol)
		bootlog.Step("menu")
		fmt.Fprintln(out, "Press ENTER to look at the storage again.")
	}
}

// safeChat is chat with a last line of defence: a bug that panics in an engine
// must bring the user back to the menu, not stop the firmware.
func (a *App) safeChat(in *lines, out io.Writer, vol *mount.Volume, m models.Model, opts *engine.Options) (err error) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(out, "\nInternal error with %s: %v\nBack to the model menu.\n", m.Name, r)
			err = nil
		}
	}()
	return a.chat(in, out, vol, m, opts)
}

// chat loads the model, runs the console until /exit, and frees the model.
// Loading problems are shown and lead back to the menu (nil error).
func (a *App) chat(in *lines, out io.Writer, vol *mount.Volume, m models.Model, opts *engine.Options) error {
	fmt.Fprintf(out, "Loading %s [%s] from the %s...\n", m.Name, m.Kind(), vol.Source)
	bootlog.Step("loading " + m.Name)
	l := &loader.Loader{FS: vol.FS, Alloc: a.Alloc, Out: out, Reserve: a.Reserve, Now: a.Now}
	loaded, err := l.Load(m)
	if err != nil {
		fmt.Fprintf(out, "Could not load %s: %v\n", m.Name, err)
		fmt.Fprintln(out, "Back to the model menu.")
		return nil
	}
	defer a.release(out, loaded)
	info := loaded.Model.Info()
	fmt.Fprintf(out, "%s: %s\n", info.Engine, info.Config)
	o := *opts
	if p := m.Plan; p.Context > 0 {
		// The context the menu showed: what fits beside the weights.
		o.Context, info.ContextSize = p.Context, p.Context
		fmt.Fprintf(out, "Context: %d positions (KV cache %s when full).\n", p.Context, loader.Size(p.KVBytes))
	}
	sess, err := loaded.Model.NewSession(o)
	if err != nil {
		fmt.Fprintf(out, "Could not start a chat with %s: %v\n", m.Name, err)
		return nil
	}
	bootlog.Step("chat with " + m.Name)
	fmt.Fprintln(out, "Ready! Type your prompt and press ENTER.")
	fmt.Fprintln(out, "(/exit returns to the model menu.)")
	c := &console.Console{Session: sess, Info: info, In: in, Out: out, Interrupt: a.Term.Interrupt(), ExitHelp: "back to the model menu"}
	err = c.Run()
	// The next model starts with the settings the user chose, and its own context.
	context := opts.Context
	*opts = *sess.Options()
	opts.Context = context
	return err
}

func (a *App) release(out io.Writer, loaded *loader.Loaded) {
	size := loaded.ModelBytes
	if err := loaded.Release(); err != nil {
		fmt.Fprintln(out, err)
		return
	}
	if a.Released != nil {
		a.Released()
	}
	fmt.Fprintf(out, "Unloaded %s: %s of memory returned.\n", loaded.Name, loader.Size(size))
}

// readLine reads a menu line. A Ctrl-D (io.EOF while the input goes on) reads
// as an empty line; io.EOF is returned only when the input has ended.
func (a *App) readLine(in *lines, out io.Writer) (string, error) {
	line, err := in.ReadLine()
	if errors.Is(err, io.EOF) && (a.InputEnded == nil || !a.InputEnded()) {
		fmt.Fprintln(out)
		return "", nil
	}
	return line, err
}

// ignoreEnd turns the end of input into a normal return.
func ignoreEnd(err error) error {
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// DefaultOptions are the hosted `inferpi chat`'s defaults (console.DefaultOptions).
var DefaultOptions = console.DefaultOptions
