// Instructions of the kernels of GGUF's encodings (blocks32_arm64.s, kquants_arm64.s,
// bf16_arm64.s, act_arm64.s and the batch kernels) that Go's assembler has no
// mnemonics for, spelled as WORDs like those of simd_arm64.h (Arm ARM, DDI 0487,
// C7.2; checked with aarch64-linux-gnu-as).

// Vd.4S (+)= Vn.4H * Vm.H[i] (SMULL, SMLAL) or Vn.8H (high half) * Vm.H[i] (SMLAL2),
// signed; Vm is V0-V15, i = H:L:M (bits 11, 21, 20).
#define LANEH(vm, i) ((((i)>>2)<<11) | ((((i)>>1)&1)<<21) | (((i)&1)<<20) | ((vm)<<16))
#define SMULL_H4S(vd, vn, vm, i)  WORD $(0x0F40A000 | LANEH(vm, i) | ((vn)<<5) | (vd))
#define SMLAL_H4S(vd, vn, vm, i)  WORD $(0x0F402000 | LANEH(vm, i) | ((vn)<<5) | (vd))
#define SMLAL2_H4S(vd, vn, vm, i) WORD $(0x4F402000 | LANEH(vm, i) | ((vn)<<5) | (vd))
// Vd.4S (+)= Vn.4H * Vm.4H; Vd.4S += Vn.8H * Vm.8H (high halves), signed
#define SMULL4S(vd, vn, vm)   WORD $(0x0E60C000 | ((vm)<<16) | ((vn)<<5) | (vd))
#define SMLAL4S(vd, vn, vm)   WORD $(0x0E608000 | ((vm)<<16) | ((vn)<<5) | (vd))
#define SMLAL2_4S(vd, vn, vm) WORD $(0x4E608000 | ((vm)<<16) | ((vn)<<5) | (vd))
// Sd = Σ Vn.8H (int16 lanes, signed, into int32)
#define SADDLV8H(sd, vn) WORD $(0x4E703800 | ((vn)<<5) | (sd))
// Hd = Σ Vn.16B (int8 lanes, signed, into int16)
#define SADDLV16B(hd, vn) WORD $(0x4E303800 | ((vn)<<5) | (hd))
// Sd = min across Vn.4S
#define FMINV4S(sd, vn) WORD $(0x6EB0F800 | ((vn)<<5) | (sd))
// Vd.8H = -Vn.8H
#define NEG8H(vd, vn) WORD $(0x6E60B800 | ((vn)<<5) | (vd))
// Vd.8H = sign-extended Vn.8B (low half) / Vn.16B (high half)
#define SXTL8H(vd, vn)  WORD $(0x0F08A400 | ((vn)<<5) | (vd))
#define SXTL2_8H(vd, vn) WORD $(0x4F08A400 | ((vn)<<5) | (vd))
// Vd.16B = Vn.16B >> 2, >> 6, arithmetic
#define SSHR2_16B(vd, vn) WORD $(0x4F0E0400 | ((vn)<<5) | (vd))
#define SSHR6_16B(vd, vn) WORD $(0x4F0A0400 | ((vn)<<5) | (vd))
// Vd.2S = float(Vn.2S); Sd = float(Sn) (signed int32)
#define SCVTF2S(vd, vn) WORD $(0x0E21D800 | ((vn)<<5) | (vd))
#define SCVTFS(sd, sn)  WORD $(0x5E21D800 | ((sn)<<5) | (sd))
// Vd.2S = Vn.2S * Vm.S[0]; Vd.2S = Vn.2S * Vm.2S
#define FMUL2S_S0(vd, vn, vm) WORD $(0x0F809000 | ((vm)<<16) | ((vn)<<5) | (vd))
#define FMUL2S(vd, vn, vm)    WORD $(0x2E20DC00 | ((vm)<<16) | ((vn)<<5) | (vd))
// Vd.4S = Vn.4S * Vm.S[1]
#define FMUL4S_S1(vd, vn, vm) WORD $(0x4FA09000 | ((vm)<<16) | ((vn)<<5) | (vd))
// Sd = Vn.S[0] + Vn.S[1] (the other lanes of Vd become 0)
#define FADDP2S(sd, vn) WORD $(0x7E30D800 | ((vn)<<5) | (sd))
// Vd.4S = Vn.4H (low half) / Vn.8H (high half) << 16: bf16 widened to float32
#define SHLL4S(vd, vn)  WORD $(0x2E613800 | ((vn)<<5) | (vd))
#define SHLL2_4S(vd, vn) WORD $(0x6E613800 | ((vn)<<5) | (vd))

// For the blocks of 32, whose macros take register numbers (Go's assembler pastes no
// tokens, so a macro cannot make V3 or F3 of a number):
// Qt = the 16 bytes at Xn+off (-256 <= off < 256, any alignment)
#define LDURQ(vt, rn, off) WORD $(0x3CC00000 | (((off)&0x1ff)<<12) | ((rn)<<5) | (vt))
// St = Wn
#define FMOVSW(vd, rn) WORD $(0x1E270000 | ((rn)<<5) | (vd))
// Dt = Xn
#define FMOVDX(vd, rn) WORD $(0x9E670000 | ((rn)<<5) | (vd))
// Vd.16B = Vn.16B[Vm.16B] (one-register TBL)
#define TBL16B(vd, vn, vm) WORD $(0x4E000000 | ((vm)<<16) | ((vn)<<5) | (vd))
// Vd.16B = 0xff where Vn & Vm is not 0
#define CMTST16B(vd, vn, vm) WORD $(0x4E208C00 | ((vm)<<16) | ((vn)<<5) | (vd))
// Vd.16B = Vn.16B >> 3, >> 4, >> 7 (logical); Vd.16B = Vn << 4 with Vd's low 4 bits
// (SLI)
#define USHR3_16B(vd, vn) WORD $(0x6F0D0400 | ((vn)<<5) | (vd))
#define USHR4_16B(vd, vn) WORD $(0x6F0C0400 | ((vn)<<5) | (vd))
#define USHR7_16B(vd, vn) WORD $(0x6F090400 | ((vn)<<5) | (vd))
#define SLI4_16B(vd, vn)  WORD $(0x6F0C5400 | ((vn)<<5) | (vd))
// Vd.16B = Vn >> 4 with Vd's high 4 bits (SRI); Vn << 3; Vn >> 2 (logical)
#define SRI4_16B(vd, vn)  WORD $(0x6F0C4400 | ((vn)<<5) | (vd))
#define SHL3_16B(vd, vn)  WORD $(0x4F0B5400 | ((vn)<<5) | (vd))
#define USHR2_16B(vd, vn) WORD $(0x6F0E0400 | ((vn)<<5) | (vd))
// Vd = Vn & Vm
#define AND16B(vd, vn, vm) WORD $(0x4E201C00 | ((vm)<<16) | ((vn)<<5) | (vd))
// Vd.16B = bytes i.. of Vn:Vm (EXT); Vd = Vn (MOV)
#define EXT16B(vd, vn, vm, i) WORD $(0x6E000000 | ((vm)<<16) | ((i)<<11) | ((vn)<<5) | (vd))
#define MOV16B(vd, vn)        WORD $(0x4EA01C00 | ((vn)<<16) | ((vn)<<5) | (vd))
// Vd.4H = the even (UZP1) or odd (UZP2) 16-bit lanes of Vn.4H:Vm.4H
#define UZP1_4H(vd, vn, vm) WORD $(0x0E401800 | ((vm)<<16) | ((vn)<<5) | (vd))
#define UZP2_4H(vd, vn, vm) WORD $(0x0E405800 | ((vm)<<16) | ((vn)<<5) | (vd))
// pairwise sums of Vn:Vm, int16 and int32 lanes
#define ADDP8H(vd, vn, vm) WORD $(0x4E60BC00 | ((vm)<<16) | ((vn)<<5) | (vd))
#define ADDP4S(vd, vn, vm) WORD $(0x4EA0BC00 | ((vm)<<16) | ((vn)<<5) | (vd))

// A row's block values go into lane b mod 8 of V30 (lanes 0-3) and V31 (lanes 4-7),
// as blockSums does (ref.go). The K-quant kernels, and those of the blocks of 32
// after their last group of 8, add each block's value, alone in lane 0 of a
// register, into lane 0 of V30, then rotate the eight lanes down by one (ROTATE8,
// tmp scratch), so that lane 0 is always the next block's; after a row's nb blocks,
// (-nb) mod 8 more rotations put the lanes back in place. Adding the +0 of the other
// lanes changes nothing, as a lane's sum is never -0.
#define ROTATE8(tmp) \
	VEXT $4, V31.B16, V30.B16, tmp.B16; \
	VEXT $4, V30.B16, V31.B16, V31.B16; \
	VMOV tmp.B16, V30.B16

// SUM8_STORE: the row's total ((l0+l4)+(l1+l5))+((l2+l6)+(l3+l7)) to out (R0), R0
// moving on.
#define SUM8_STORE \
	FADD4S(30, 30, 31); \
	FADDP4S(30, 30, 30); \
	FADDP4S(30, 30, 30); \
	FMOVS.P F30, 4(R0)

// The batch kernels' view of their tokens (neonBatch, simd_arm64.go): per token its
// x quants, x scales, x float sums (s8 or s) and x bsums, then the row's lanes.
#define NB_Q 0
#define NB_D 32
#define NB_S 64
#define NB_BSUMS 96
#define NB_LANES 128
