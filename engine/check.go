package engine

// Checker is an Engine that checks a model from its files without reading the
// weights, so a menu can list a model that cannot load as such before anyone
// waits for its weights to be read.
type Checker interface {
	// Check looks at files as Load does, but files.Model holds only the first
	// bytes of the weights file (up to CheckHeadSize) and size is its whole
	// size. It returns the model's Footprint.
	Check(files Files, size int64) (Footprint, error)
}

// CheckHeadSize is how many leading bytes of model.bin Checker.Check reads at
// most: the largest header of any engine (a GPT model.bin of 4096 layers).
const CheckHeadSize = 64 << 10
