// Package logitcmp compares an engine's logits with a reference's, position by
// position: what the engines' accuracy tests (quantized vs fp32) report.
package logitcmp

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/inferpi/inferpi/engine/sample"
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
	if sample.Argmax(want) == sample.Argmax(got) {
		a.Top1Same++
	}
}

// Over compares got with want, both [case][position][vocab], at every position of
// every case of want.
func Over(want, got [][][]float32) *Agreement {
	a := &Agreement{}
	for i := range want {
		for pos := range want[i] {
			a.Add(want[i][pos], got[i][pos])
		}
	}
	return a
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

// Bound is what an encoding must show on a set: at least Top1 agreement, and a
// mean RMSE of at most RelRMSE of the reference logits' spread.
type Bound struct{ Top1, RelRMSE float64 }

// Set names one group of cases in a report.
type Set struct {
	Name  string
	Cases int
}

// TB is the part of testing.TB that Check uses.
type TB interface {
	Helper()
	Log(args ...any)
	Errorf(format string, args ...any)
}

// rmseOrder: pairs of encodings whose RMSEs rise from the first to the second
// (more bits per weight, less error), so each file really holds the encoding
// it says. q6_k may equal q8_0: a model with no row of 256 weights stores
// llama-quantize's fallback for it, q8_0, throughout.
var rmseOrder = []struct {
	less, more string
	equalOK    bool
}{
	{"fp16", "bf16", false}, {"bf16", "q8_0", false}, {"fp16", "q8_0", false},
	{"q8_0", "q6_k", true}, {"q6_k", "q5_k", false}, {"q5_k", "q4_k", false},
	{"q8_0", "q5_1", false}, {"q5_1", "q4_1", false},
	{"q8_0", "q5_0", false}, {"q5_0", "q4_0", false},
}

// Check logs the report of res (set name -> variant name -> agreement; every
// variant compared with the same reference, which it names "fp16", "q8_0",
// "q4_0" among others) and fails t where a set breaks its bounds, or where two
// encodings' RMSEs are not in the order of their bits (rmseOrder, for the
// variants res has).
func Check(t TB, sets []Set, variants []string, res map[string]map[string]*Agreement, bounds map[string]map[string]Bound) {
	t.Helper()
	var report strings.Builder
	for _, set := range sets {
		ref := res[set.Name]["fp16"] // every variant saw the same reference logits
		fmt.Fprintf(&report, "%s: %d cases, %d positions; fp32 logits: spread %.2f, top-2 margin below %.2f at 10%% of positions\n",
			set.Name, set.Cases, ref.Positions, ref.Spread(), ref.MarginP10())
		for _, v := range variants {
			fmt.Fprintf(&report, "  %-29s %v\n", v, res[set.Name][v])
		}
	}
	t.Log("\n" + report.String())
	for _, set := range sets {
		r := res[set.Name]
		for _, o := range rmseOrder {
			a, b := r[o.less], r[o.more]
			if a == nil || b == nil {
				continue
			}
			if a.RMSE() > b.RMSE() || a.RMSE() == b.RMSE() && !o.equalOK {
				t.Errorf("%s: RMSE %s %.4g, %s %.4g: want %s's below", set.Name, o.less, a.RMSE(), o.more, b.RMSE(), o.less)
			}
		}
		for name, b := range bounds[set.Name] {
			a := r[name]
			if a.Top1() < b.Top1 {
				t.Errorf("%s: %s top-1 agreement %.2f%% < %.0f%%", set.Name, name, 100*a.Top1(), 100*b.Top1)
			}
			if rel := a.RMSE() / a.Spread(); rel > b.RelRMSE {
				t.Errorf("%s: %s mean RMSE %.4g is %.3f of the logits' spread, want <= %.3f", set.Name, name, a.RMSE(), rel, b.RelRMSE)
			}
		}
	}
	if len(bounds) != len(sets) {
		t.Errorf("bounds for %d sets, measured %d", len(bounds), len(sets))
	}
}
