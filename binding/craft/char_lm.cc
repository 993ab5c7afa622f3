#include "char_lm.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace craft {

namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();
constexpr float kBeamPrune = 1e-3f;  // as label_converter.cc's CtcBeamSearch
constexpr double kScale = 2000.0;    // the file's u16 values are -log10 p in 1/2000 units
constexpr int kBits = 7;

double LogAdd(double a, double b) {
  if (a == kNegInf) return b;
  if (b == kNegInf) return a;
  const double m = std::max(a, b);
  return m + std::log1p(std::exp(-std::fabs(a - b)));
}

class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  void Read(void* out, size_t n) {
    if (n > size_ - at_) throw std::invalid_argument("truncated language model file");
    std::memcpy(out, data_ + at_, n);
    at_ += n;
  }
  uint32_t U32() {
    uint32_t v;
    Read(&v, 4);
    return v;
  }
  bool done() const { return at_ == size_; }
  size_t left() const { return size_ - at_; }

 private:
  const uint8_t* data_;
  size_t size_, at_ = 0;
};

}  // namespace

std::shared_ptr<const CharLm> CharLm::Parse(const uint8_t* data, size_t size) {
  Reader in(data, size);
  char magic[4];
  in.Read(magic, 4);
  if (std::memcmp(magic, "CLM1", 4) != 0) throw std::invalid_argument("not a craft-text language model (magic)");
  auto lm = std::make_shared<CharLm>();
  lm->order_ = static_cast<int>(in.U32());
  lm->symbols_ = static_cast<int>(in.U32());
  lm->fold_ = in.U32() != 0;
  const uint32_t alpha_bytes = in.U32();
  // 7 bits per symbol (start = S < 128), at most 9 in a 64-bit key.
  if (lm->order_ < 1 || lm->order_ > 9 || lm->symbols_ < 2 || lm->symbols_ > 127 || alpha_bytes > 4096) {
    throw std::invalid_argument("bad language model header");
  }
  std::string alpha(alpha_bytes, '\0');
  in.Read(alpha.data(), alpha_bytes);
  for (size_t i = 0; i < alpha.size();) {  // UTF-8 characters
    size_t n = 1;
    while (i + n < alpha.size() && (static_cast<unsigned char>(alpha[i + n]) & 0xC0) == 0x80) n++;
    lm->alphabet_.push_back(alpha.substr(i, n));
    i += n;
  }
  if (static_cast<int>(lm->alphabet_.size()) != lm->symbols_ - 1) {
    throw std::invalid_argument("language model alphabet does not match its symbol count");
  }
  std::fill(std::begin(lm->ascii_), std::end(lm->ascii_), -1);
  for (size_t i = 0; i < lm->alphabet_.size(); i++) {
    const std::string& a = lm->alphabet_[i];
    if (a.size() != 1 || static_cast<unsigned char>(a[0]) >= 128) continue;
    lm->ascii_[static_cast<unsigned char>(a[0])] = static_cast<int>(i) + 1;
    if (lm->fold_ && std::islower(static_cast<unsigned char>(a[0]))) {
      lm->ascii_[std::toupper(static_cast<unsigned char>(a[0]))] = static_cast<int>(i) + 1;
    }
  }
  lm->keys_.resize(lm->order_);
  lm->logp_.resize(lm->order_);
  lm->bow_.resize(lm->order_);
  std::vector<uint16_t> q;
  auto to_ln = [](uint16_t v) { return static_cast<float>(-v / kScale * std::log(10.0)); };
  for (int k = 1; k <= lm->order_; k++) {
    const uint32_t n = in.U32();
    // Checked against what is left before anything is allocated: a forged count cannot ask for gigabytes.
    const size_t per = (k <= 4 ? 4 : 8) + 2 + (k < lm->order_ ? 2 : 0);
    if (n > in.left() / per) throw std::invalid_argument("bad language model n-gram count");
    auto& keys = lm->keys_[k - 1];
    keys.resize(n);
    if (k <= 4) {
      std::vector<uint32_t> k32(n);
      in.Read(k32.data(), 4ull * n);
      std::copy(k32.begin(), k32.end(), keys.begin());
    } else {
      in.Read(keys.data(), 8ull * n);
    }
    if (!std::is_sorted(keys.begin(), keys.end())) throw std::invalid_argument("language model keys not sorted");
    q.resize(n);
    in.Read(q.data(), 2ull * n);
    lm->logp_[k - 1].resize(n);
    std::transform(q.begin(), q.end(), lm->logp_[k - 1].begin(), to_ln);
    if (k < lm->order_) {
      in.Read(q.data(), 2ull * n);
      lm->bow_[k - 1].resize(n);
      std::transform(q.begin(), q.end(), lm->bow_[k - 1].begin(), to_ln);
    }
  }
  if (!in.done()) throw std::invalid_argument("trailing bytes after the language model");
  return lm;
}

size_t CharLm::ngrams() const {
  size_t n = 0;
  for (const auto& k : keys_) n += k.size();
  return n;
}

int CharLm::SymbolOf(const std::string& ch) const {
  if (ch.size() == 1 && static_cast<unsigned char>(ch[0]) < 128) return ascii_[static_cast<unsigned char>(ch[0])];
  for (size_t i = 0; i < alphabet_.size(); i++) {
    if (alphabet_[i] == ch) return static_cast<int>(i) + 1;
  }
  return -1;
}

uint64_t CharLm::Start() const {
  uint64_t s = 0;
  for (int i = 0; i < order_ - 1; i++) s = (s << kBits) | static_cast<uint64_t>(symbols_);
  return s;
}

uint64_t CharLm::Next(uint64_t state, int symbol) const {
  if (order_ == 1) return 0;
  const uint64_t mask = (uint64_t{1} << (kBits * (order_ - 1))) - 1;
  return ((state << kBits) | static_cast<uint64_t>(symbol)) & mask;
}

double CharLm::LogProb(uint64_t state, int symbol) const {
  double backoff = 0;
  for (int len = order_ - 1; len >= 0; len--) {
    const uint64_t h = len == 0 ? 0 : state & ((uint64_t{1} << (kBits * len)) - 1);
    const uint64_t g = (h << kBits) | static_cast<uint64_t>(symbol);
    const auto& keys = keys_[len];
    auto it = std::lower_bound(keys.begin(), keys.end(), g);
    if (it != keys.end() && *it == g) return backoff + logp_[len][it - keys.begin()];
    if (len > 0) {  // the context's weight, when it was seen as a context
      const auto& ctx = keys_[len - 1];
      auto c = std::lower_bound(ctx.begin(), ctx.end(), h);
      if (c != ctx.end() && *c == h) backoff += bow_[len - 1][c - ctx.begin()];
    }
  }
  return backoff - std::log(static_cast<double>(symbols_));
}

std::vector<int> CtcLmBeamSearch(const std::vector<float>& probs, int T, int K, int beamWidth, const CharLm& lm,
                                 const std::vector<int>& classSymbol, double alpha, double beta) {
  struct Beam {
    std::vector<int> prefix;
    double pb = kNegInf, pnb = kNegInf;  // ln P_ctc(prefix, path ends in blank / in its last label)
    double lm = 0;                       // ln P_lm(prefix), without the end of word
    uint64_t state = 0;
    double ctc() const { return LogAdd(pb, pnb); }
  };
  auto score = [&](const Beam& b) { return b.ctc() + alpha * b.lm + beta * static_cast<double>(b.prefix.size()); };
  const double unknown = -std::log(static_cast<double>(lm.symbols()));
  std::vector<Beam> beams(1);
  beams[0].pb = 0;
  beams[0].state = lm.Start();
  std::vector<Beam> next;
  auto find = [&](const std::vector<int>& prefix) -> Beam* {
    for (Beam& b : next) {
      if (b.prefix == prefix) return &b;
    }
    return nullptr;
  };
  for (int t = 0; t < T; t++) {
    const float* p = probs.data() + static_cast<size_t>(t) * K;
    next.clear();
    for (const Beam& b : beams) {
      const double total = b.ctc();
      Beam* same = find(b.prefix);
      if (same == nullptr) {
        next.push_back(Beam{b.prefix, kNegInf, kNegInf, b.lm, b.state});
        same = &next.back();
      }
      same->pb = LogAdd(same->pb, total + std::log(std::max(p[0], 1e-30f)));
      const int last = b.prefix.empty() ? -1 : b.prefix.back();
      if (last > 0) same->pnb = LogAdd(same->pnb, b.pnb + std::log(std::max(p[last], 1e-30f)));
      for (int c = 1; c < K; c++) {
        if (p[c] < kBeamPrune) continue;
        std::vector<int> extended = b.prefix;
        extended.push_back(c);
        Beam* x = find(extended);
        if (x == nullptr) {
          const int s = c < static_cast<int>(classSymbol.size()) ? classSymbol[c] : -1;
          next.push_back(Beam{std::move(extended), kNegInf, kNegInf,
                              b.lm + (s >= 0 ? lm.LogProb(b.state, s) : unknown), s >= 0 ? lm.Next(b.state, s) : b.state});
          x = &next.back();
        }
        // A repeated label needs a blank in between; otherwise any path of the prefix extends.
        x->pnb = LogAdd(x->pnb, (c == last ? b.pb : total) + std::log(p[c]));
      }
    }
    const size_t keep = std::min<size_t>(std::max(beamWidth, 1), next.size());
    std::partial_sort(next.begin(), next.begin() + keep, next.end(), [&](const Beam& a, const Beam& b) {
      const double sa = score(a), sb = score(b);
      return sa != sb ? sa > sb : a.prefix < b.prefix;  // ties: a fixed order
    });
    next.resize(keep);
    beams.swap(next);
  }
  const Beam* best = nullptr;
  double best_score = kNegInf;
  for (const Beam& b : beams) {
    const double s = score(b) + alpha * lm.LogProb(b.state, 0);  // + the end of word
    if (best == nullptr || s > best_score || (s == best_score && b.prefix < best->prefix)) {
      best = &b;
      best_score = s;
    }
  }
  return best != nullptr ? best->prefix : std::vector<int>{};
}

}  // namespace craft
