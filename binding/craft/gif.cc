#include "gif.h"

#include <gif_lib.h>

#include <cstring>
#include <memory>
#include <string>

#include "error.h"

namespace craft {

namespace {

struct Reader {
  const uint8_t* data;
  size_t size;
  size_t pos;
};

int ReadFromMemory(GifFileType* gif, GifByteType* out, int length) {
  auto* r = static_cast<Reader*>(gif->UserData);
  size_t n = std::min(static_cast<size_t>(length), r->size - r->pos);
  std::memcpy(out, r->data + r->pos, n);
  r->pos += n;
  return static_cast<int>(n);
}

void CloseGif(GifFileType* gif) {
  int err = 0;
  DGifCloseFile(gif, &err);
}

}  // namespace

cv::Mat DecodeGif(const uint8_t* data, size_t size, uint64_t maxPixels) {
  Reader reader{data, size, 0};
  int err = 0;
  std::unique_ptr<GifFileType, void (*)(GifFileType*)> gif(DGifOpen(&reader, ReadFromMemory, &err), CloseGif);
  if (!gif) throw Error(ErrorCode::kDecode, std::string("Input GIF is corrupt: ") + GifErrorString(err));
  const int sw = gif->SWidth, sh = gif->SHeight;
  if (sw <= 0 || sh <= 0) throw Error(ErrorCode::kDecode, "Input GIF has no size");
  if (maxPixels > 0 && uint64_t(sw) * uint64_t(sh) > maxPixels) {
    throw Error(ErrorCode::kInputTooLarge, "Input image exceeds pixel limit: " + std::to_string(sw) + "x" +
                                               std::to_string(sh) + " > maxPixels " + std::to_string(maxPixels));
  }
  // DGifSlurp reads every frame; web GIFs are small, and a truncated one is reported as an error here.
  if (DGifSlurp(gif.get()) != GIF_OK || gif->ImageCount < 1) {
    throw Error(ErrorCode::kDecode, std::string("Input GIF is corrupt or truncated: ") + GifErrorString(gif->Error));
  }
  const SavedImage& frame = gif->SavedImages[0];
  const ColorMapObject* cmap = frame.ImageDesc.ColorMap != nullptr ? frame.ImageDesc.ColorMap : gif->SColorMap;
  if (cmap == nullptr) throw Error(ErrorCode::kDecode, "Input GIF has no colour map");

  int transparent = -1;
  for (int i = 0; i < frame.ExtensionBlockCount; i++) {
    GraphicsControlBlock gcb;
    if (frame.ExtensionBlocks[i].Function == GRAPHICS_EXT_FUNC_CODE &&
        DGifExtensionToGCB(frame.ExtensionBlocks[i].ByteCount, frame.ExtensionBlocks[i].Bytes, &gcb) == GIF_OK) {
      transparent = gcb.TransparentColor;
    }
  }
  // Transparent and uncovered pixels become white, as they show on a web page.
  cv::Mat rgb(sh, sw, CV_8UC3, cv::Scalar(255, 255, 255));
  const GifImageDesc& d = frame.ImageDesc;
  for (int y = 0; y < d.Height; y++) {
    const int sy = d.Top + y;
    if (sy < 0 || sy >= sh) continue;
    uint8_t* row = rgb.ptr<uint8_t>(sy);
    for (int x = 0; x < d.Width; x++) {
      const int sx = d.Left + x;
      if (sx < 0 || sx >= sw) continue;
      const int idx = frame.RasterBits[static_cast<size_t>(y) * d.Width + x];
      if (idx == transparent || idx >= cmap->ColorCount) continue;
      const GifColorType& c = cmap->Colors[idx];
      row[sx * 3] = c.Red;
      row[sx * 3 + 1] = c.Green;
      row[sx * 3 + 2] = c.Blue;
    }
  }
  return rgb;
}

}  // namespace craft
