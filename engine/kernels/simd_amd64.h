// Shared by the amd64 kernel files (Go assembler syntax: sources first, destination
// last).

// Register use common to the matrix kernels:
//	DI out, SI weights (walks every row in turn), R8 rows left
//	BX x cursor, CX columns or blocks left in the row, Y0-Y3 accumulators

// PF is how far ahead of the weights the kernels prefetch. Reading a 585 MB matrix
// on one core, the hardware prefetchers alone left the kernels at 9-11 GB/s against
// 14-16 GB/s for a plain read (their work per cache line keeps too few lines in
// flight); 2 KiB ahead gave 11-14 GB/s. 1 KiB helped less; 4-8 KiB were no better
// there. Decoding whole models from memory (inferpi bench with a read that pushes the
// last token's weights out of the 300 MiB L3 first) then preferred 4 KiB: gpt-286m
// fp16 0.88-0.89 -> 0.94-0.96 of the read bandwidth, q4_0 0.64-0.65 -> 0.71-0.72,
// q8_0 0.72-0.75 -> 0.85 (the integer kernels spend longer on each line, so 2 KiB
// was less time ahead than memory takes); 8 KiB was no better than 4.
#define PF 4096

// HSUM(a, b, xa, xt) adds the 8 lanes of a and the 8 lanes of b into lane 0 of xa
// (a's low half), in one fixed order; xt (b's low half) is scratch.
#define HSUM(a, b, xa, xt) \
	VADDPS       b, a, a; \
	VEXTRACTF128 $1, a, xt; \
	VADDPS       xt, xa, xa; \
	VHADDPS      xa, xa, xa; \
	VHADDPS      xa, xa, xa

// HSUM_Y0_Y1 adds the 8 lanes of Y0 and the 8 lanes of Y1 into X0 lane 0.
#define HSUM_Y0_Y1 HSUM(Y0, Y1, X0, X1)
