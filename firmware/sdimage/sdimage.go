// Package sdimage writes SD card images for the firmware on the host: an MBR
// with one FAT32 partition (type 0x0C) starting at 1 MiB, holding model
// directories and GGUF files. `make demo` boots QEMU raspi4b with such an image
// (Demo: the demo models), and the end-to-end and host flow tests read it.
//
// The image is made with the standard tools (sfdisk, mkfs.fat, mtools; Debian
// packages fdisk, dosfstools, mtools, which scripts/install-deps.sh installs), so
// the firmware is checked against what real formatters write. QEMU wants an SD
// image whose size is a power of two (hw/sd/sd.c: sd_realize): Build rounds up.
package sdimage

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/gguf"
	"github.com/inferpi/inferpi/engine/llama"
	"github.com/inferpi/inferpi/engine/quantize"
)

// File is one file to put on the card: copied from Local, or written from Data.
type File struct {
	Path  string // inside the volume, e.g. "llama-demo/model.bin"
	Local string
	Data  []byte
}

// Options for Build.
type Options struct {
	// Size of the image in bytes, a power of two; 0 picks the smallest power of
	// two that holds the files with room to spare (at least MinSize).
	Size  int64
	Label string // volume label (default "INFERPI")
}

// MinSize is the smallest image Build makes: FAT32 needs at least 65,525
// clusters, which 512-byte clusters give from about 33 MiB up.
const MinSize = 64 << 20

const partStart = 2048 // sectors: the 1 MiB alignment every partitioning tool uses

// Tools are the commands Build runs.
var Tools = []string{"sfdisk", "mkfs.fat", "mmd", "mcopy"}

// MissingTools lists the Tools that are not installed.
func MissingTools() []string {
	var missing []string
	for _, t := range Tools {
		if _, err := exec.LookPath(t); err != nil {
			missing = append(missing, t)
		}
	}
	return missing
}

// ModelDir returns the files of a model directory on the host, to be placed
// under name on the card: model.bin, tokenizer.bin and inferpi.json if present.
func ModelDir(local, name string) ([]File, error) {
	var files []File
	for _, f := range []string{"model.bin", "tokenizer.bin", "inferpi.json"} {
		p := filepath.Join(local, f)
		if _, err := os.Stat(p); err != nil {
			if errors.Is(err, os.ErrNotExist) && f == "inferpi.json" {
				continue
			}
			return nil, err
		}
		files = append(files, File{Path: name + "/" + f, Local: p})
	}
	return files, nil
}

// LlamaGGUF converts the llama2.c model directory local into a GGUF file of
// type ft (llama.WriteGGUF, general.name the directory's name), to be placed
// at name on the card.
func LlamaGGUF(local, name string, ft quantize.FileType) (File, error) {
	var files engine.Files
	var err error
	if files.Model, err = os.ReadFile(filepath.Join(local, "model.bin")); err != nil {
		return File{}, err
	}
	if files.Tokenizer, err = os.ReadFile(filepath.Join(local, "tokenizer.bin")); err != nil {
		return File{}, err
	}
	if files.Settings, err = os.ReadFile(filepath.Join(local, "inferpi.json")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return File{}, err
	}
	files.ModelName = filepath.Base(filepath.Clean(local))
	var b bytes.Buffer
	if err := llama.WriteGGUF(&b, files, ft); err != nil {
		return File{}, fmt.Errorf("%s: %w", local, err)
	}
	return File{Path: name, Data: b.Bytes()}, nil
}

// WithContext returns GGUF file f as name, its metadata declaring n positions
// ({arch}.context_length): the same model as a file that declares a long
// context, as real ones do (Llama 3.2: 131072), for the tests of the context
// the firmware plans.
func WithContext(f File, name string, n uint32) (File, error) {
	g, err := gguf.Parse(f.Data, f.Path)
	if err != nil {
		return File{}, err
	}
	arch, err := g.GetString("general.architecture")
	if err != nil {
		return File{}, err
	}
	var b bytes.Buffer
	w := gguf.NewWriter(&b)
	for _, kv := range g.KVs {
		if kv.Key == arch+".context_length" {
			kv.Value = n
		}
		if err := w.AddKV(kv.Key, kv.Value); err != nil {
			return File{}, err
		}
	}
	for _, t := range g.Tensors {
		if err := w.AddTensor(t.Name, t.Type, t.Dims); err != nil {
			return File{}, err
		}
	}
	if err := w.WriteHeader(); err != nil {
		return File{}, err
	}
	for i := range g.Tensors {
		d, err := g.Data(f.Data, &g.Tensors[i])
		if err != nil {
			return File{}, err
		}
		if err := w.WriteTensorData(d); err != nil {
			return File{}, err
		}
	}
	if err := w.Close(); err != nil {
		return File{}, err
	}
	return File{Path: name, Data: b.Bytes()}, nil
}

// DemoGGUF is the demo card's GGUF file: models/llama-demo in Q8_0, at the top
// level of the volume.
const DemoGGUF = "llama-demo-q8_0.gguf"

// DemoModels are the demo card's model directories, inside the repository's
// models directory.
var DemoModels = []string{"nanochat-demo", "llama-demo"}

// Demo returns the files of the demo card, from the repository's models
// directory: the demo model directories, and llama-demo as DemoGGUF, written
// now (the repository holds no generated model files).
func Demo(models string) ([]File, error) {
	var files []File
	for _, dir := range DemoModels {
		f, err := ModelDir(filepath.Join(models, dir), dir)
		if err != nil {
			return nil, err
		}
		files = append(files, f...)
	}
	g, err := LlamaGGUF(filepath.Join(models, "llama-demo"), DemoGGUF, quantize.FileQ8_0)
	if err != nil {
		return nil, err
	}
	return append(files, g), nil
}

// Build writes a new image holding files.
func Build(image string, files []File, o Options) error {
	if m := MissingTools(); len(m) > 0 {
		return fmt.Errorf("making %s needs %s (Debian packages fdisk, dosfstools, mtools; scripts/install-deps.sh installs them)", image, strings.Join(m, ", "))
	}
	var content int64
	for _, f := range files {
		n := int64(len(f.Data))
		if f.Local != "" {
			st, err := os.Stat(f.Local)
			if err != nil {
				return err
			}
			n = st.Size()
		}
		content += n
	}
	size := o.Size
	if size == 0 {
		size = MinSize
		for size < content+content/8+16<<20 {
			size *= 2
		}
	}
	if size < MinSize || size&(size-1) != 0 {
		return fmt.Errorf("image size %d: must be a power of two of at least %d bytes", size, MinSize)
	}
	label := o.Label
	if label == "" {
		label = "INFERPI"
	}
	if err := os.Remove(image); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	f, err := os.Create(image)
	if err != nil {
		return err
	}
	err = f.Truncate(size) // sparse: a 1 GiB image costs what its files cost
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := run("sfdisk", strings.NewReader(fmt.Sprintf("label: dos\nstart=%d, type=c\n", partStart)),
		"--no-reread", "--no-tell-kernel", "-q", image); err != nil {
		return err
	}
	partBytes := size - partStart*512
	if err := run("mkfs.fat", nil, "-F", "32", "-s", fmt.Sprint(clusterSectors(partBytes)), "-S", "512",
		"-n", label, fmt.Sprintf("--offset=%d", partStart), image, fmt.Sprint(partBytes/1024)); err != nil {
		return err
	}
	target := fmt.Sprintf("%s@@%d", image, partStart*512)
	dirs := map[string]bool{}
	for _, f := range files {
		for d := path.Dir(f.Path); d != "." && d != "/"; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	sorted := make([]string, 0, len(dirs))
	for d := range dirs {
		sorted = append(sorted, d)
	}
	sort.Strings(sorted) // parents before children
	for _, d := range sorted {
		if err := run("mmd", nil, "-i", target, "::/"+d); err != nil {
			return err
		}
	}
	tmp, err := os.MkdirTemp("", "sdimage")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for i, f := range files {
		local := f.Local
		if local == "" {
			local = filepath.Join(tmp, fmt.Sprint(i))
			if err := os.WriteFile(local, f.Data, 0o644); err != nil {
				return err
			}
		}
		if err := run("mcopy", nil, "-i", target, "-D", "o", local, "::/"+f.Path); err != nil {
			return err
		}
	}
	return nil
}

// clusterSectors picks the largest cluster (fewer, longer runs to read) that
// still leaves the 65,525 clusters FAT32 needs, with a margin; at most 32 KiB.
func clusterSectors(partBytes int64) int {
	s := 64
	for s > 1 && partBytes/int64(s*512) < 70000 {
		s /= 2
	}
	return s
}

func run(name string, stdin *strings.Reader, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "MTOOLS_SKIP_CHECK=1", "LC_ALL=C.UTF-8")
	if stdin != nil {
		cmd.Stdin = stdin
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}
