// A character n-gram language model (tools/lm/ngram.py writes it: interpolated Kneser-Ney, back-off form) and the
// CTC prefix beam search fused with it (shallow fusion: Hannun et al. 2014, "First-pass large vocabulary continuous
// speech recognition using bi-directional recurrent DNNs"; DeepSpeech's ctc_beam_search_decoder). Plain C++.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace craft {

class CharLm {
 public:
  // Parses the file tools/lm/ngram.py writes ('CLM1'); throws std::invalid_argument on anything else.
  static std::shared_ptr<const CharLm> Parse(const uint8_t* data, size_t size);

  int order() const { return order_; }
  int symbols() const { return symbols_; }  // S: the characters and the end of word (0); the start symbol is S
  size_t ngrams() const;

  // The symbol of one UTF-8 character (lower-cased first when the model is folded), -1 when it has none.
  int SymbolOf(const std::string& ch) const;

  // A state is the last order - 1 symbols, 7 bits each, the oldest highest (start symbols before the word).
  uint64_t Start() const;
  uint64_t Next(uint64_t state, int symbol) const;
  // ln P(symbol | state), backing off to shorter contexts (their weights) down to a uniform 1 / S.
  double LogProb(uint64_t state, int symbol) const;

 private:
  int order_ = 0, symbols_ = 0;
  bool fold_ = true;
  std::vector<std::string> alphabet_;           // symbol i + 1's character
  int ascii_[128];                              // an ASCII character's symbol (folded), -1: none
  std::vector<std::vector<uint64_t>> keys_;     // per order k (index k - 1): sorted k-gram keys
  std::vector<std::vector<float>> logp_, bow_;  // ln P(last | first k - 1), ln back-off weight as a context
};

// CTC prefix beam search over [T, K] probabilities (blank = 0), each prefix scored
//   ln P_ctc(prefix) + alpha ln P_lm(prefix) + beta |prefix|
// (the LM's end of word joins at the last frame). `classSymbol[c]`: class c's LM symbol (-1: none, scored 1 / S and
// leaving the state as it is). Classes under 1e-3 at a frame are not expanded, as CtcBeamSearch. Returns the best
// labelling as class indices.
std::vector<int> CtcLmBeamSearch(const std::vector<float>& probs, int T, int K, int beamWidth, const CharLm& lm,
                                 const std::vector<int>& classSymbol, double alpha, double beta);

}  // namespace craft
