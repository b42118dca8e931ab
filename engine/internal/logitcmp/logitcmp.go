// Package logitcmp compares an engine's logits with a reference's, position by
// position: what the engines' accuracy tests (quantized vs fp32) report.
package logitcmp

import (
	"fmt"
	"math"
	"slices"
)

// Agreement accumulates one encoding's logits against the reference's.
type Agreement struct {
	Positions, Top1Same int
	RMSESum, RMSEMax    float64
	spreadSum           float64   // the reference logits' variance, summed over positions
	margins             []float64 // the reference's top-1 minus top-2 logit, per position
}

// Add compares one position: RMSE over the vocabulary, and the argmax.
func (a *Agreement) Add(want, got []float32) {
	var mean, sq float64
	for _, w := range want {
		mean += float64(w)
	}
	mean /= float64(len(want))
	for i, w := range want {
		d := float64(got[i]) - float64(w)
		sq += d * d
		a.spreadSum += (float64(w) - mean) * (float64(w) - mean) / float64(len(want))
	}
	rmse := math.Sqrt(sq / float64(len(want)))
	if math.IsNaN(rmse) {
		rmse = math.Inf(1)
	}
	a.Positions++
	a.margins = append(a.margins, TopMargin(want))
	a.RMSESum += rmse
	a.RMSEMax = max(a.RMSEMax, rmse)
	if Argmax(want) == Argmax(got) {
		a.Top1Same++
	}
}

// Top1 is the share of positions where both pick the same token.
func (a *Agreement) Top1() float64 { return float64(a.Top1Same) / float64(a.Positions) }

// RMSE is the mean per-position RMSE.
func (a *Agreement) RMSE() float64 { return a.RMSESum / float64(a.Positions) }

// Spread is the reference logits' typical standard deviation.
func (a *Agreement) Spread() float64 { return math.Sqrt(a.spreadSum / float64(a.Positions)) }

func (a *Agreement) String() string {
	return fmt.Sprintf("top-1 %6.2f%% (%3d of %d differ)  RMSE mean %.4f max %.4f",
		100*a.Top1(), a.Positions-a.Top1Same, a.Positions, a.RMSE(), a.RMSEMax)
}

// MarginP10 is the 10th percentile of the reference's top-2 margins: how close
// the nearest calls are.
func (a *Agreement) MarginP10() float64 {
	m := slices.Clone(a.margins)
	slices.Sort(m)
	return m[len(m)/10]
}

// TopMargin is the largest logit minus the second largest.
func TopMargin(v []float32) float64 {
	first, second := math.Inf(-1), math.Inf(-1)
	for _, x := range v {
		switch f := float64(x); {
		case f > first:
			first, second = f, first
		case f > second:
			second = f
		}
	}
	return first - second
}

// Argmax is the index of the largest value (the first of equals).
func Argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}
