// NEON kernels for ARMv8.0-A, written for the Cortex-A72 of the Raspberry Pi 4: no
// SDOT and no fp16 arithmetic, so fp16 weights are widened with FCVTL/FCVTL2 and
// multiplied in fp32 (FMLA), and 8-bit blocks are multiplied in integers with
// SMULL/SMLAL2 (int8 x int8 -> int16) and summed with SADDLP/SADALP (int16 pairs ->
// int32). Go's assembler has no mnemonics for those, so they are spelled as WORDs
// below; each encoding is from the Arm ARM (DDI 0487, C7.2) and was checked with
// llvm-mc -show-encoding.
//
// Why integers for the blocks: per 32 weights, SMULL/SMLAL2 x4 + SADDLP/SADALP x2 +
// SCVTF + FMLA is 8 NEON instructions; widening to fp32 instead takes SXTL x4 + SXTL
// x8 + SCVTF x8 + FMLA x8 = 28, and the A72 runs FP converts and integer multiplies
// on its F0 pipe only (Cortex-A72 Software Optimization Guide, UAN 0016A, 3.1), so
// the 8 SCVTFs alone would take as long as the whole integer path.

// Vd.4S = widen(Vn.4H) (low half) / widen(Vn.8H high half)
#define FCVTL(vd, vn)  WORD $(0x0E217800 | ((vn)<<5) | (vd))
#define FCVTL2(vd, vn) WORD $(0x4E217800 | ((vn)<<5) | (vd))
// Vd.4S = Vn.4S + Vm.4S; FADDP adds adjacent pairs of Vn:Vm
#define FADD4S(vd, vn, vm)  WORD $(0x4E20D400 | ((vm)<<16) | ((vn)<<5) | (vd))
#define FADDP4S(vd, vn, vm) WORD $(0x6E20D400 | ((vm)<<16) | ((vn)<<5) | (vd))
// Vd.4S += Vn.4S * Vm.S[i] (the lane index i is H:L, bits 11 and 21)
#define FMLASI(vd, vn, vm, i) WORD $(0x4F801000 | (((i)&1)<<21) | (((i)>>1)<<11) | ((vm)<<16) | ((vn)<<5) | (vd))
#define FMLAS0(vd, vn, vm) FMLASI(vd, vn, vm, 0)
// Vd.4S = float(Vn.4S) (signed int32)
#define SCVTF4S(vd, vn) WORD $(0x4E21D800 | ((vn)<<5) | (vd))
// Vd.8H = Vn.8B * Vm.8B (low 8 bytes, signed); SMLAL2 adds the products of the high 8
#define SMULL8H(vd, vn, vm)  WORD $(0x0E20C000 | ((vm)<<16) | ((vn)<<5) | (vd))
#define SMLAL2_8H(vd, vn, vm) WORD $(0x4E208000 | ((vm)<<16) | ((vn)<<5) | (vd))
// Vd.8H += Vn.8B * Vm.8B (low 8 bytes, signed)
#define SMLAL8H(vd, vn, vm)  WORD $(0x0E208000 | ((vm)<<16) | ((vn)<<5) | (vd))
// Vd.4S = pairwise sums of Vn.8H (SADDLP), or Vd.4S += them (SADALP)
#define SADDLP4S(vd, vn) WORD $(0x4E602800 | ((vn)<<5) | (vd))
#define SADALP4S(vd, vn) WORD $(0x4E606800 | ((vn)<<5) | (vd))

// Vd.4S = |Vn.4S|; max(Vn.4S, Vm.4S); Sd = max across Vn.4S
#define FABS4S(vd, vn)      WORD $(0x4EA0F800 | ((vn)<<5) | (vd))
#define FMAX4S(vd, vn, vm)  WORD $(0x4E20F400 | ((vm)<<16) | ((vn)<<5) | (vd))
#define FMAXV4S(sd, vn)     WORD $(0x6E30F800 | ((vn)<<5) | (sd))
// Vd.4S = Vn.4S * Vm.S[0]
#define FMULS0(vd, vn, vm)  WORD $(0x4F809000 | ((vm)<<16) | ((vn)<<5) | (vd))
// Sd = Σ Vn.4S (int32)
#define ADDV4S(sd, vn)      WORD $(0x4EB1B800 | ((vn)<<5) | (sd))
// Saturating narrows: int32 -> int16 into the low half (SQXTN) or the high half
// (SQXTN2) of Vd; int16 -> int8 likewise.
#define SQXTN_4H(vd, vn)    WORD $(0x0E614800 | ((vn)<<5) | (vd))
#define SQXTN2_8H(vd, vn)   WORD $(0x4E614800 | ((vn)<<5) | (vd))
#define SQXTN_8B(vd, vn)    WORD $(0x0E214800 | ((vn)<<5) | (vd))
#define SQXTN2_16B(vd, vn)  WORD $(0x4E214800 | ((vn)<<5) | (vd))

#define ZERO8_V16_V23 \
	VEOR V16.B16, V16.B16, V16.B16; \
	VEOR V17.B16, V17.B16, V17.B16; \
	VEOR V18.B16, V18.B16, V18.B16; \
	VEOR V19.B16, V19.B16, V19.B16; \
	VEOR V20.B16, V20.B16, V20.B16; \
	VEOR V21.B16, V21.B16, V21.B16; \
	VEOR V22.B16, V22.B16, V22.B16; \
	VEOR V23.B16, V23.B16, V23.B16

// Sum of V16..V23 into S16.
#define SUM8_V16_V23 \
	FADD4S(16, 16, 17); \
	FADD4S(18, 18, 19); \
	FADD4S(20, 20, 21); \
	FADD4S(22, 22, 23); \
	FADD4S(16, 16, 18); \
	FADD4S(20, 20, 22); \
	FADD4S(16, 16, 20); \
	FADDP4S(16, 16, 16); \
	FADDP4S(16, 16, 16)

// For the elementwise kernels (exp_arm64.s); checked with aarch64-linux-gnu-as.
// Vd.4S = Vn.4S * Vm.4S, min, -, / (FMIN gives NaN when either input is NaN)
#define FMUL4S(vd, vn, vm) WORD $(0x6E20DC00 | ((vm)<<16) | ((vn)<<5) | (vd))
#define FMIN4S(vd, vn, vm) WORD $(0x4EA0F400 | ((vm)<<16) | ((vn)<<5) | (vd))
#define FSUB4S(vd, vn, vm) WORD $(0x4EA0D400 | ((vm)<<16) | ((vn)<<5) | (vd))
#define FDIV4S(vd, vn, vm) WORD $(0x6E20FC00 | ((vm)<<16) | ((vn)<<5) | (vd))
// Vd.4S += Vn.4S * Vm.4S; Vd.4S -= Vn.4S * Vm.4S
#define FMLA4S(vd, vn, vm) WORD $(0x4E20CC00 | ((vm)<<16) | ((vn)<<5) | (vd))
#define FMLS4S(vd, vn, vm) WORD $(0x4EA0CC00 | ((vm)<<16) | ((vn)<<5) | (vd))
// Vd.4S = all ones where Vn >= Vm, else zeros (false for NaN)
#define FCMGE4S(vd, vn, vm) WORD $(0x6E20E400 | ((vm)<<16) | ((vn)<<5) | (vd))
// Vd.4S = int32(Vn.4S) rounded to nearest, ties to even
#define FCVTNS4S(vd, vn) WORD $(0x4E21A800 | ((vn)<<5) | (vd))
