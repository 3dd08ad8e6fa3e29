// fragment_test.cpp: the emulated ldmatrix and mma.m16n8k8 against the
// per-lane fragment layouts of the PTX ISA (9.7.13.4.15 ldmatrix, 9.7.13.4.7
// mma.m16n8k8 with .f16 A/B and .f32 C/D), built here from the ISA's tables:
//   groupID g = lane / 4, threadID_in_group t = lane % 4
//   A (16x8, row): a0 = {A[g][2t], A[g][2t+1]}, a1 = {A[g+8][2t], A[g+8][2t+1]}
//   B (8x8, k x n, col): b = {B[2t][g], B[2t+1][g]}
//   C, D (16x8): {c0, c1} = C[g][2t..2t+1], {c2, c3} = C[g+8][2t..2t+1]
//   ldmatrix: lanes 8i..8i+7 give the addresses of rows 0..7 of matrix i;
//     register i of lane l = {M_i[l/4][2(l%4)], M_i[l/4][2(l%4)+1]},
//     with .trans {M_i[2(l%4)][l/4], M_i[2(l%4)+1][l/4]}   (low half first)
// Products of small integer-valued f16 matrices are exact in f32, so results
// compare exactly; and a kernel that gets an index wrong must get a different
// result, which shows the emulation depends on the layout.
#include <cstdint>

#include "gpsim/ptx.h"
#include "tests/sim/sim_test_util.h"

namespace {

constexpr int kM = 16, kN = 8, kK = 8;

__device__ inline uint32_t pack2(uint16_t lo, uint16_t hi) { return (uint32_t)lo | ((uint32_t)hi << 16); }

// A stored row of 8 b16 values that lane l points ldmatrix at: a permutation
// of the 32 stored rows, so the test sees which lane's address fed which row.
int stored_row(int l) { return (5 * l + 3) % 32; }

// ldmatrix .x{num}{.trans} of 32 stored rows (8 b16 each). Lanes that supply no
// address for this .num give an invalid one, which ldmatrix must ignore.
__global__ void ldmatrix_kernel(const uint16_t* rows, uint32_t* out, int num, int trans) {
  GP_SHARED(uint16_t, tile, [32 * 8]);
  const int lane = threadIdx.x;
  for (int k = 0; k < 8; k++) tile[lane * 8 + k] = rows[lane * 8 + k];
  __syncwarp();
  const uint32_t addr = lane < 8 * num ? (uint32_t)__cvta_generic_to_shared(&tile[stored_row(lane) * 8]) : 0xfffffff1u;
  uint32_t r[4] = {0, 0, 0, 0};
  gpsim::ptx::ldmatrix(r, num, trans != 0, addr);
  for (int i = 0; i < 4; i++) out[lane * 4 + i] = r[i];
}

// What the PTX ISA says lane l's register i holds.
uint32_t ldmatrix_expected(const std::vector<uint16_t>& rows, int l, int i, bool trans) {
  auto m = [&](int r, int c) { return rows[stored_row(8 * i + r) * 8 + c]; };  // matrix i
  const int a = l / 4, b = 2 * (l % 4);
  return trans ? ((uint32_t)m(b, a) | (uint32_t)m(b + 1, a) << 16) : ((uint32_t)m(a, b) | (uint32_t)m(a, b + 1) << 16);
}

enum Variant {
  kCorrect = 0,
  kSwapA = 1,      // a0 and a1 swapped
  kRowFromT = 2,   // A's row taken from lane % 4 instead of lane / 4
};

// D = A * B + C from fragments built in each lane, A row-major 16x8, B
// row-major 8x8 (k x n), C and D row-major 16x8.
template <int kVariant>
__global__ void mma_kernel(const uint16_t* A, const uint16_t* B, const float* C, float* D) {
  const int lane = threadIdx.x, g = lane / 4, t = lane % 4;
  const int row = kVariant == kRowFromT ? t : g;
  uint32_t a[2] = {pack2(A[row * kK + 2 * t], A[row * kK + 2 * t + 1]),
                   pack2(A[(row + 8) * kK + 2 * t], A[(row + 8) * kK + 2 * t + 1])};
  if (kVariant == kSwapA) {
    const uint32_t x = a[0];
    a[0] = a[1];
    a[1] = x;
  }
  const uint32_t b = pack2(B[(2 * t) * kN + g], B[(2 * t + 1) * kN + g]);
  const float c[4] = {C[g * kN + 2 * t], C[g * kN + 2 * t + 1], C[(g + 8) * kN + 2 * t], C[(g + 8) * kN + 2 * t + 1]};
  float d[4];
  gpsim::ptx::mma_m16n8k8_f32_f16_f16_f32(d, a, b, c);
  D[g * kN + 2 * t] = d[0];
  D[g * kN + 2 * t + 1] = d[1];
  D[(g + 8) * kN + 2 * t] = d[2];
  D[(g + 8) * kN + 2 * t + 1] = d[3];
}

// The same product with the fragments loaded by ldmatrix, as kernels/linear.cu
// does: A (16 rows of 8) by .x2, B once by .x1 from n-major rows (B^T, the
// "col" operand as stored) and once by .x1.trans from k-major rows (B itself).
// Both B fragments must agree; D comes from the first.
__global__ void ldmatrix_mma_kernel(const uint16_t* A, const uint16_t* B, const float* C, float* D, int* b_differs) {
  GP_SHARED(uint16_t, sa, [kM * kK]);
  GP_SHARED(uint16_t, sbt, [kN * kK]);  // n-major
  GP_SHARED(uint16_t, sb, [kK * kN]);   // k-major
  const int lane = threadIdx.x, g = lane / 4, t = lane % 4;
  for (int i = lane; i < kM * kK; i += 32) sa[i] = A[i];
  for (int i = lane; i < kK * kN; i += 32) {
    sb[i] = B[i];
    sbt[(i % kN) * kK + i / kN] = B[i];
  }
  __syncwarp();
  uint32_t a[2], bt, bk;
  gpsim::ptx::ldmatrix(a, 2, false, (uint32_t)__cvta_generic_to_shared(&sa[(lane % 16) * kK]));
  gpsim::ptx::ldmatrix(&bt, 1, false, (uint32_t)__cvta_generic_to_shared(&sbt[(lane % 8) * kK]));
  gpsim::ptx::ldmatrix(&bk, 1, true, (uint32_t)__cvta_generic_to_shared(&sb[(lane % 8) * kN]));
  b_differs[lane] = bt != bk;
  const float c[4] = {C[g * kN + 2 * t], C[g * kN + 2 * t + 1], C[(g + 8) * kN + 2 * t], C[(g + 8) * kN + 2 * t + 1]};
  float d[4];
  gpsim::ptx::mma_m16n8k8_f32_f16_f16_f32(d, a, bt, c);
  D[g * kN + 2 * t] = d[0];
  D[g * kN + 2 * t + 1] = d[1];
  D[(g + 8) * kN + 2 * t] = d[2];
  D[(g + 8) * kN + 2 * t + 1] = d[3];
}

struct Problem {
  std::vector<float> a, b, c;  // integer values, row-major
  std::vector<uint16_t> a16, b16;
  std::vector<float> d;  // the plain product a * b + c
};

Problem make_problem() {
  Problem p;
  p.a.resize(kM * kK);
  p.b.resize(kK * kN);
  p.c.resize(kM * kN);
  for (int m = 0; m < kM; m++)
    for (int k = 0; k < kK; k++) p.a[m * kK + k] = (float)((3 * m + 5 * k + 1) % 9 - 4);
  for (int k = 0; k < kK; k++)
    for (int n = 0; n < kN; n++) p.b[k * kN + n] = (float)((2 * k + 7 * n + 3) % 7 - 3);
  for (int m = 0; m < kM; m++)
    for (int n = 0; n < kN; n++) p.c[m * kN + n] = (float)(m - 2 * n);
  for (float v : p.a) p.a16.push_back(simtest::f16_bits(v));
  for (float v : p.b) p.b16.push_back(simtest::f16_bits(v));
  p.d.resize(kM * kN);
  for (int m = 0; m < kM; m++)
    for (int n = 0; n < kN; n++) {
      float s = p.c[m * kN + n];
      for (int k = 0; k < kK; k++) s += p.a[m * kK + k] * p.b[k * kN + n];  // exact: small integers
      p.d[m * kN + n] = s;
    }
  return p;
}

template <int kVariant>
std::vector<float> run_mma(const Problem& p) {
  const uint16_t* A = simtest::dev_upload(p.a16);
  const uint16_t* B = simtest::dev_upload(p.b16);
  const float* C = simtest::dev_upload(p.c);
  float* D = simtest::dev_alloc<float>(kM * kN);
  GP_LAUNCH(1, 32, 0, nullptr, mma_kernel<kVariant>)(A, B, C, D);
  std::vector<float> d = simtest::dev_download(D, kM * kN);
  EXPECT_EQ(gpsim::last_fault(), "");
  return d;
}

int count_differences(const std::vector<float>& x, const std::vector<float>& y) {
  int n = 0;
  for (size_t i = 0; i < x.size(); i++) n += x[i] != y[i];
  return n;
}

using simtest::SimTest;

class Fragments : public SimTest {};

TEST_F(Fragments, LdmatrixFollowsThePtxLayout) {
  std::vector<uint16_t> rows(32 * 8);
  for (int r = 0; r < 32; r++)
    for (int c = 0; c < 8; c++) rows[r * 8 + c] = (uint16_t)(0x1000 + r * 16 + c);  // all distinct
  const uint16_t* d_rows = simtest::dev_upload(rows);
  for (int num : {1, 2, 4})
    for (int trans : {0, 1}) {
      SCOPED_TRACE(::testing::Message() << "x" << num << (trans ? ".trans" : ""));
      uint32_t* out = simtest::dev_alloc<uint32_t>(32 * 4);
      GP_LAUNCH(1, 32, 0, nullptr, ldmatrix_kernel)(d_rows, out, num, trans);
      const std::vector<uint32_t> h = simtest::dev_download(out, 32 * 4);
      ASSERT_EQ(gpsim::last_fault(), "");
      for (int l = 0; l < 32; l++)
        for (int i = 0; i < 4; i++) {
          const uint32_t want = i < num ? ldmatrix_expected(rows, l, i, trans != 0) : 0u;
          EXPECT_EQ(h[l * 4 + i], want) << "lane " << l << " register " << i;
        }
    }
}

TEST_F(Fragments, MmaEqualsThePlainProduct) {
  const Problem p = make_problem();
  const std::vector<float> d = run_mma<kCorrect>(p);
  for (int i = 0; i < kM * kN; i++) EXPECT_EQ(d[i], p.d[i]) << "row " << i / kN << " col " << i % kN;
}

TEST_F(Fragments, LdmatrixFedMmaEqualsThePlainProduct) {
  const Problem p = make_problem();
  const uint16_t* A = simtest::dev_upload(p.a16);
  const uint16_t* B = simtest::dev_upload(p.b16);
  const float* C = simtest::dev_upload(p.c);
  float* D = simtest::dev_alloc<float>(kM * kN);
  int* differs = simtest::dev_alloc<int>(32);
  GP_LAUNCH(1, 32, 0, nullptr, ldmatrix_mma_kernel)(A, B, C, D, differs);
  const std::vector<float> d = simtest::dev_download(D, kM * kN);
  ASSERT_EQ(gpsim::last_fault(), "");
  for (int i = 0; i < kM * kN; i++) EXPECT_EQ(d[i], p.d[i]) << "row " << i / kN << " col " << i % kN;
  for (int v : simtest::dev_download(differs, 32)) EXPECT_EQ(v, 0);
}

// The layout matters: each wrong index gives a different D.
TEST_F(Fragments, WrongFragmentIndexGivesADifferentResult) {
  const Problem p = make_problem();
  const std::vector<float> swapped = run_mma<kSwapA>(p);
  EXPECT_GT(count_differences(swapped, p.d), kM * kN / 2);
  // a0/a1 swapped computes rows g+8 of A for rows g of D, and the other way round
  for (int m = 0; m < kM; m++)
    for (int n = 0; n < kN; n++) {
      float s = p.c[m * kN + n];
      for (int k = 0; k < kK; k++) s += p.a[((m + 8) % kM) * kK + k] * p.b[k * kN + n];
      EXPECT_EQ(swapped[m * kN + n], s) << m << "," << n;
    }
  const std::vector<float> bad_row = run_mma<kRowFromT>(p);
  EXPECT_GT(count_differences(bad_row, p.d), kM * kN / 2);
}

}  // namespace
