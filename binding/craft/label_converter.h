// Turning a recogniser's logits into text: DTRB's CTCLabelConverter / AttnLabelConverter (utils.py) decoding, a CTC
// prefix beam search, and the confidences of DTRB (demo.py / test.py) and EasyOCR (recognition.py custom_mean).
// Plain C++, no OpenCV, no ONNX Runtime.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace craft {

class CharLm;  // char_lm.h

enum class DecoderKind { kCtc, kAttn };       // the model's head (metadata craft.recognizer.decoder)
enum class ConfidenceKind { kDtrb, kEasyOcr };  // metadata craft.recognizer.confidence
enum class CtcSearch { kGreedy, kBeam };

struct DecodeOptions {
  CtcSearch search = CtcSearch::kGreedy;
  int beamWidth = 5;
  bool characterProbabilities = false;
  // With kBeam: a character language model fused into the search (CtcLmBeamSearch, char_lm.h) with its weight
  // (alpha) and per-character insertion bonus (beta); null: the plain prefix beam search.
  std::shared_ptr<const CharLm> lm;
  double lmWeight = 0;
  double insertionBonus = 0;
};

struct Decoded {
  std::string text;                 // UTF-8
  double confidence = 0;
  std::vector<float> characters;    // per output character (with characterProbabilities), see Decode()
};

// Softmax over the last axis of one item's [T, K] logits (max subtracted, as torch.softmax), with the `ignored`
// classes masked out (recognize()'s allowlist / blocklist; none by default): each frame's probabilities over the other
// classes only, the ignored ones exactly 0. This is EasyOCR's recognizer_predict (`preds_prob[:, :, ignore_idx] = 0`
// then each frame divided by its sum) computed from the logits, so a frame whose kept classes all underflow to 0
// after a full softmax (a masked class far ahead) still gets their true ratios instead of 0 / 0. `ignored` holds class
// indices in [0, K); the caller never ignores the CTC blank (class 0), so no frame is left without a class.
std::vector<float> Softmax(const float* logits, int T, int K, const std::vector<int>& ignored = {});

// Decodes one item. `probs`: [T, K] softmax probabilities; `charset`: the classes after the special ones (CTC: class
// i = charset[i - 1], class 0 = blank; attn: class i = charset[i - 2], 0 = [GO], 1 = [s]).
//  - CTC greedy (CTCLabelConverter.decode): per-frame argmax; keep a frame's class when it is not blank and differs
//    from the previous frame's (repeats merged first, then blanks dropped: "a-a" = "aa", "aa" = "a").
//  - CTC beam: prefix beam search over all classes, `beamWidth` prefixes kept per frame; with options.lm, fused with
//    the character language model (shallow fusion, CtcLmBeamSearch).
//  - attn (AttnLabelConverter.decode + demo.py): the tokens of all T steps joined ([GO] as "[GO]", [s] as "[s]"), cut
//    at the first "[s]"; without one, Python's `pred[:find('[s]')]` = `pred[:-1]` drops the last character, which is
//    kept here for parity with the official pipeline.
// Confidence, from the per-frame maxima whatever the search (as both references compute it):
//  - kDtrb: product of the per-step max probabilities: CTC over all T frames; attn over the steps before the cut
//    (demo.py slices the step probabilities with the string index of "[s]"; an empty slice gives 0, as test.py).
//  - kEasyOcr: prod(p)^(2 / sqrt(n)) over the max probabilities of the non-blank frames (0 when there are none).
// Character probabilities: CTC greedy: the highest probability of the character over the frames of its run; CTC
// beam: the same over the frames a best-path (Viterbi) alignment of the text gives each character; attn: the step's
// max probability.
Decoded Decode(const std::vector<float>& probs, int T, int K, const std::vector<std::string>& charset,
               DecoderKind decoder, ConfidenceKind confidence, const DecodeOptions& options);

// Parses a JSON array of strings (a charset in the model's metadata) to UTF-8; throws std::invalid_argument on
// anything else.
std::vector<std::string> ParseJsonStringArray(const std::string& json);

// CTC prefix beam search over [T, K] probabilities (blank = 0); returns the best labelling as class indices.
std::vector<int> CtcBeamSearch(const std::vector<float>& probs, int T, int K, int beamWidth);

// Best-path alignment of `labels` to the frames (CTC Viterbi): the frame span [first, last] of each label.
std::vector<std::pair<int, int>> CtcAlign(const std::vector<float>& probs, int T, int K, const std::vector<int>& labels);

}  // namespace craft
