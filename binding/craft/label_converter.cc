#include "label_converter.h"

#include "char_lm.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <cctype>
#include <map>
#include <stdexcept>

namespace craft {

namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

double LogAdd(double a, double b) {
  if (a == kNegInf) return b;
  if (b == kNegInf) return a;
  const double m = std::max(a, b);
  return m + std::log1p(std::exp(-std::fabs(a - b)));
}

// Classes below this probability at a frame are not expanded by the beam search (they can't reach the top beams
// of a trained model; the cost stays linear in the useful classes).
constexpr float kBeamPrune = 1e-3f;

size_t CodePoints(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// Byte offset of code point `n` (or s.size()).
size_t CodePointOffset(const std::string& s, size_t n) {
  size_t seen = 0;
  for (size_t i = 0; i < s.size(); i++) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (seen == n) return i;
      seen++;
    }
  }
  return s.size();
}

double EasyOcrMean(const std::vector<double>& p) {
  if (p.empty()) return 0;
  double prod = 1;
  for (double v : p) prod *= v;
  return std::pow(prod, 2.0 / std::sqrt(static_cast<double>(p.size())));
}

void AppendUtf8(std::string& s, uint32_t cp) {
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (cp >> 18));
    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace

std::vector<std::string> ParseJsonStringArray(const std::string& json) {
  size_t i = 0;
  auto ws = [&] { while (i < json.size() && std::isspace(static_cast<unsigned char>(json[i]))) i++; };
  auto fail = [&](const char* what) { throw std::invalid_argument(std::string(what) + " at offset " + std::to_string(i)); };
  auto hex4 = [&]() -> uint32_t {
    if (i + 4 > json.size()) fail("truncated \\u escape");
    uint32_t v = 0;
    for (int k = 0; k < 4; k++) {
      const char c = json[i++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= c - '0';
      else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
      else fail("bad \\u escape");
    }
    return v;
  };
  std::vector<std::string> out;
  ws();
  if (i >= json.size() || json[i] != '[') fail("expected '['");
  i++;
  ws();
  if (i < json.size() && json[i] == ']') return out;
  while (true) {
    ws();
    if (i >= json.size() || json[i] != '"') fail("expected a string");
    i++;
    std::string s;
    while (true) {
      if (i >= json.size()) fail("unterminated string");
      const char c = json[i++];
      if (c == '"') break;
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in string");
      if (c != '\\') { s += c; continue; }
      if (i >= json.size()) fail("unterminated escape");
      const char e = json[i++];
      switch (e) {
        case '"': s += '"'; break;
        case '\\': s += '\\'; break;
        case '/': s += '/'; break;
        case 'b': s += '\b'; break;
        case 'f': s += '\f'; break;
        case 'n': s += '\n'; break;
        case 'r': s += '\r'; break;
        case 't': s += '\t'; break;
        case 'u': {
          uint32_t cp = hex4();
          if (cp >= 0xD800 && cp < 0xDC00) {
            if (i + 6 > json.size() || json[i] != '\\' || json[i + 1] != 'u') fail("lone surrogate");
            i += 2;
            const uint32_t lo = hex4();
            if (lo < 0xDC00 || lo >= 0xE000) fail("bad surrogate pair");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp < 0xE000) {
            fail("lone surrogate");
          }
          AppendUtf8(s, cp);
          break;
        }
        default: fail("bad escape");
      }
    }
    out.push_back(std::move(s));
    ws();
    if (i < json.size() && json[i] == ',') { i++; continue; }
    if (i < json.size() && json[i] == ']') { i++; break; }
    fail("expected ',' or ']'");
  }
  ws();
  if (i != json.size()) fail("trailing characters");
  return out;
}

std::vector<float> Softmax(const float* logits, int T, int K, const std::vector<int>& ignored) {
  std::vector<char> keep(K, 1);
  for (int k : ignored) {
    if (k >= 0 && k < K) keep[k] = 0;
  }
  std::vector<float> out(static_cast<size_t>(T) * K, 0.f);
  for (int t = 0; t < T; t++) {
    const float* x = logits + static_cast<size_t>(t) * K;
    float* y = out.data() + static_cast<size_t>(t) * K;
    float m = -std::numeric_limits<float>::infinity();
    for (int k = 0; k < K; k++) {
      if (keep[k]) m = std::max(m, x[k]);
    }
    float sum = 0;
    for (int k = 0; k < K; k++) {
      if (keep[k]) sum += (y[k] = std::exp(x[k] - m));
    }
    if (sum > 0) {
      for (int k = 0; k < K; k++) y[k] /= sum;
    }
  }
  return out;
}

std::vector<int> CtcBeamSearch(const std::vector<float>& probs, int T, int K, int beamWidth) {
  struct Entry {
    double pb = kNegInf, pnb = kNegInf;  // log P(prefix, path ends in blank / in its last label)
    double total() const { return LogAdd(pb, pnb); }
  };
  std::map<std::vector<int>, Entry> beams;
  beams[{}] = Entry{0.0, kNegInf};
  for (int t = 0; t < T; t++) {
    const float* p = probs.data() + static_cast<size_t>(t) * K;
    std::map<std::vector<int>, Entry> next;
    for (const auto& [prefix, e] : beams) {
      const double total = e.total();
      Entry& same = next[prefix];
      same.pb = LogAdd(same.pb, total + std::log(std::max(p[0], 1e-30f)));
      const int last = prefix.empty() ? -1 : prefix.back();
      if (last > 0) same.pnb = LogAdd(same.pnb, e.pnb + std::log(std::max(p[last], 1e-30f)));
      for (int c = 1; c < K; c++) {
        if (p[c] < kBeamPrune) continue;
        std::vector<int> extended = prefix;
        extended.push_back(c);
        Entry& x = next[extended];
        // A repeated label needs a blank in between; otherwise any path of the prefix extends.
        x.pnb = LogAdd(x.pnb, (c == last ? e.pb : total) + std::log(p[c]));
      }
    }
    std::vector<std::pair<double, const std::vector<int>*>> order;
    order.reserve(next.size());
    for (const auto& [prefix, e] : next) order.emplace_back(e.total(), &prefix);
    const size_t keep = std::min<size_t>(std::max(beamWidth, 1), order.size());
    std::partial_sort(order.begin(), order.begin() + keep, order.end(),
                      [](const auto& a, const auto& b) { return a.first > b.first; });
    std::map<std::vector<int>, Entry> kept;
    for (size_t i = 0; i < keep; i++) kept[*order[i].second] = next[*order[i].second];
    beams.swap(kept);
  }
  const std::vector<int>* best = nullptr;
  double best_p = kNegInf;
  for (const auto& [prefix, e] : beams) {
    if (best == nullptr || e.total() > best_p) {
      best = &prefix;
      best_p = e.total();
    }
  }
  return best != nullptr ? *best : std::vector<int>{};
}

std::vector<std::pair<int, int>> CtcAlign(const std::vector<float>& probs, int T, int K,
                                          const std::vector<int>& labels) {
  const int L = static_cast<int>(labels.size());
  const int S = 2 * L + 1;
  std::vector<std::pair<int, int>> spans(L, {-1, -1});
  if (L == 0 || T == 0) return spans;
  auto label = [&](int s) { return s % 2 == 0 ? 0 : labels[s / 2]; };
  auto lp = [&](int t, int s) { return std::log(std::max(probs[static_cast<size_t>(t) * K + label(s)], 1e-30f)); };
  std::vector<double> dp(static_cast<size_t>(T) * S, kNegInf);
  std::vector<int> from(static_cast<size_t>(T) * S, -1);
  dp[0] = lp(0, 0);
  if (S > 1) dp[1] = lp(0, 1);
  for (int t = 1; t < T; t++) {
    for (int s = 0; s < S; s++) {
      double best = dp[static_cast<size_t>(t - 1) * S + s];
      int arg = s;
      if (s >= 1 && dp[static_cast<size_t>(t - 1) * S + s - 1] > best) {
        best = dp[static_cast<size_t>(t - 1) * S + s - 1];
        arg = s - 1;
      }
      if (s >= 2 && label(s) != 0 && label(s) != label(s - 2) && dp[static_cast<size_t>(t - 1) * S + s - 2] > best) {
        best = dp[static_cast<size_t>(t - 1) * S + s - 2];
        arg = s - 2;
      }
      if (best == kNegInf) continue;
      dp[static_cast<size_t>(t) * S + s] = best + lp(t, s);
      from[static_cast<size_t>(t) * S + s] = arg;
    }
  }
  int s = S - 1;
  if (S > 1 && dp[static_cast<size_t>(T - 1) * S + S - 2] > dp[static_cast<size_t>(T - 1) * S + S - 1]) s = S - 2;
  if (dp[static_cast<size_t>(T - 1) * S + s] == kNegInf) return spans;  // too few frames for the labels
  for (int t = T - 1; t >= 0; t--) {
    if (s % 2 == 1) {
      auto& span = spans[s / 2];
      span.first = t;
      if (span.second < 0) span.second = t;
    }
    if (t > 0) s = from[static_cast<size_t>(t) * S + s];
  }
  return spans;
}

Decoded Decode(const std::vector<float>& probs, int T, int K, const std::vector<std::string>& charset,
               DecoderKind decoder, ConfidenceKind confidence, const DecodeOptions& options) {
  Decoded out;
  // Per-frame argmax (first maximum on ties, as torch.max) and its probability.
  std::vector<int> idx(T);
  std::vector<double> maxp(T);
  for (int t = 0; t < T; t++) {
    const float* p = probs.data() + static_cast<size_t>(t) * K;
    int best = 0;
    for (int k = 1; k < K; k++) {
      if (p[k] > p[best]) best = k;
    }
    idx[t] = best;
    maxp[t] = p[best];
  }
  auto charOf = [&](int cls, int special) -> const std::string& {
    static const std::string kEmpty;
    const int i = cls - special;
    return i >= 0 && i < static_cast<int>(charset.size()) ? charset[i] : kEmpty;
  };

  if (decoder == DecoderKind::kCtc) {
    if (options.search == CtcSearch::kGreedy) {
      float run_max = 0;
      for (int t = 0; t < T; t++) {
        const bool starts = idx[t] != 0 && !(t > 0 && idx[t - 1] == idx[t]);
        if (starts) {
          out.text += charOf(idx[t], 1);
          if (options.characterProbabilities) out.characters.push_back(0.f);
          run_max = 0;
        }
        if (idx[t] != 0 && options.characterProbabilities) {
          run_max = std::max(run_max, static_cast<float>(maxp[t]));
          out.characters.back() = run_max;
        }
      }
    } else {
      std::vector<int> labels;
      if (options.lm) {
        std::vector<int> symbol(K, -1);  // class -> the LM's symbol (blank: none)
        for (int c = 1; c < K; c++) symbol[c] = options.lm->SymbolOf(charOf(c, 1));
        labels = CtcLmBeamSearch(probs, T, K, options.beamWidth, *options.lm, symbol, options.lmWeight,
                                 options.insertionBonus);
      } else {
        labels = CtcBeamSearch(probs, T, K, options.beamWidth);
      }
      for (int c : labels) out.text += charOf(c, 1);
      if (options.characterProbabilities) {
        const auto spans = CtcAlign(probs, T, K, labels);
        for (size_t i = 0; i < labels.size(); i++) {
          float m = 0;
          for (int t = spans[i].first; t >= 0 && t <= spans[i].second; t++) {
            m = std::max(m, probs[static_cast<size_t>(t) * K + labels[i]]);
          }
          out.characters.push_back(m);
        }
      }
    }
    if (confidence == ConfidenceKind::kDtrb) {
      double prod = 1;
      for (int t = 0; t < T; t++) prod *= maxp[t];
      out.confidence = T > 0 ? prod : 0;
    } else {
      std::vector<double> kept;
      for (int t = 0; t < T; t++) {
        if (idx[t] != 0) kept.push_back(maxp[t]);
      }
      out.confidence = EasyOcrMean(kept);
    }
    return out;
  }

  // Attention: the official string of all steps, cut at the first "[s]" (Python str.find / slicing semantics).
  std::string full;
  for (int t = 0; t < T; t++) full += idx[t] == 0 ? "[GO]" : idx[t] == 1 ? "[s]" : charOf(idx[t], 2);
  const size_t eos_byte = full.find("[s]");
  size_t keep_steps;
  if (eos_byte == std::string::npos) {
    const size_t n = CodePoints(full);
    out.text = full.substr(0, CodePointOffset(full, n == 0 ? 0 : n - 1));  // pred[:-1]
    keep_steps = T > 0 ? T - 1 : 0;                                         // pred_max_prob[:-1]
  } else {
    out.text = full.substr(0, eos_byte);
    keep_steps = std::min<size_t>(CodePoints(out.text), T);
  }
  std::vector<double> kept(maxp.begin(), maxp.begin() + keep_steps);
  if (confidence == ConfidenceKind::kDtrb) {
    double prod = 1;
    for (double v : kept) prod *= v;
    out.confidence = kept.empty() ? 0 : prod;
  } else {
    out.confidence = EasyOcrMean(kept);
  }
  if (options.characterProbabilities) {
    const size_t n = CodePoints(out.text);
    for (size_t i = 0; i < n; i++) out.characters.push_back(i < static_cast<size_t>(T) ? maxp[i] : 0.f);
  }
  return out;
}

}  // namespace craft
