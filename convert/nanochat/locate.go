// Package nanochat converts a nanochat checkpoint (github.com/karpathy/nanochat)
// into InferPi's GPT files: model.bin (engine/gpt's format) and tokenizer.bin
// (engine/tokenizer/bpe's format), in pure Go: neither Python, torch nor tiktoken
// is needed.
//
// It reads what nanochat writes under its base directory and picks files the way
// nanochat's checkpoint_manager.py does:
//
//	tokenizer/tokenizer.pkl                       a pickled tiktoken Encoding
//	base_checkpoints/<tag>/model_<step>.pt        torch.save of the state dict
//	base_checkpoints/<tag>/meta_<step>.json       its model_config
//	chatsft_checkpoints/..., chatrl_checkpoints/... (sources "sft", "rl")
package nanochat

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
)

// Options select a checkpoint and the output encoding.
type Options struct {
	BaseDir  string // nanochat's base directory (NANOCHAT_BASE_DIR)
	Source   string // "base" (default), "sft" or "rl"
	ModelTag string // "" picks the largest model, as nanochat's find_largest_model
	Step     int    // < 0 picks the latest step, as find_last_step
	DType    string // "fp16" (default), "fp32", "bf16", "q8_0", "q4_0", ... "q6_k" (Export)
}

// Files are the input files a conversion reads.
type Files struct {
	Tokenizer, Model, Meta string
	Tag                    string
	Step                   int
}

var sourceDirs = map[string]string{
	"base": "base_checkpoints",
	"sft":  "chatsft_checkpoints",
	"rl":   "chatrl_checkpoints",
}

// Locate finds the files for opts.
func Locate(opts Options) (Files, error) {
	src := opts.Source
	if src == "" {
		src = "base"
	}
	sub, ok := sourceDirs[src]
	if !ok {
		return Files{}, fmt.Errorf("unknown source %q (want base, sft or rl)", src)
	}
	if opts.BaseDir == "" {
		return Files{}, fmt.Errorf("no base directory given")
	}
	if st, err := os.Stat(opts.BaseDir); err != nil || !st.IsDir() {
		return Files{}, fmt.Errorf("base directory %s: not a readable directory", opts.BaseDir)
	}
	checkpoints := filepath.Join(opts.BaseDir, sub)
	tag := opts.ModelTag
	if tag == "" {
		var err error
		if tag, err = largestModel(checkpoints); err != nil {
			return Files{}, err
		}
	}
	dir := filepath.Join(checkpoints, tag)
	step := opts.Step
	if step < 0 {
		var err error
		if step, err = lastStep(dir); err != nil {
			return Files{}, err
		}
	}
	f := Files{
		Tokenizer: filepath.Join(opts.BaseDir, "tokenizer", "tokenizer.pkl"),
		Model:     filepath.Join(dir, fmt.Sprintf("model_%06d.pt", step)),
		Meta:      filepath.Join(dir, fmt.Sprintf("meta_%06d.json", step)),
		Tag:       tag,
		Step:      step,
	}
	for _, p := range []string{f.Tokenizer, f.Model, f.Meta} {
		if _, err := os.Stat(p); err != nil {
			return Files{}, fmt.Errorf("%s: %v", p, errNotFound(err))
		}
	}
	return f, nil
}

func errNotFound(err error) string {
	if os.IsNotExist(err) {
		return "no such file"
	}
	return err.Error()
}

var depthTag = regexp.MustCompile(`^d(\d+)`)

// largestModel is checkpoint_manager.find_largest_model: the tag d<N> with the
// largest N, else the most recently modified directory.
func largestModel(dir string) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("%s: %v", dir, errNotFound(err))
	}
	type cand struct {
		tag   string
		depth int
		mtime int64
	}
	var all, depths []cand
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		c := cand{tag: e.Name(), mtime: info.ModTime().UnixNano()}
		all = append(all, c)
		if m := depthTag.FindStringSubmatch(e.Name()); m != nil {
			if c.depth, err = strconv.Atoi(m[1]); err == nil {
				depths = append(depths, c)
			}
		}
	}
	if len(all) == 0 {
		return "", fmt.Errorf("%s: no model directories (checkpoints) found", dir)
	}
	if len(depths) > 0 {
		sort.SliceStable(depths, func(i, j int) bool { return depths[i].depth > depths[j].depth })
		return depths[0].tag, nil
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].mtime > all[j].mtime })
	return all[0].tag, nil
}

var modelFile = regexp.MustCompile(`model_(\d+)\.pt$`)

// lastStep is checkpoint_manager.find_last_step: the highest model_<step>.pt.
func lastStep(dir string) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("%s: %v", dir, errNotFound(err))
	}
	best := -1
	for _, e := range entries {
		if m := modelFile.FindStringSubmatch(e.Name()); m != nil {
			if n, err := strconv.Atoi(m[1]); err == nil && n > best {
				best = n
			}
		}
	}
	if best < 0 {
		return 0, fmt.Errorf("%s: no model_<step>.pt checkpoints found", dir)
	}
	return best, nil
}
