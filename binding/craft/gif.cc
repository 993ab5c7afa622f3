#include "gif.h"

#include <gif_lib.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

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

// GifErrorString returns NULL for codes it doesn't know (and giflib doesn't always set one): never pass that on.
std::string GifError(int code) {
  const char* s = GifErrorString(code);
  return s != nullptr ? s : "giflib error " + std::to_string(code);
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
  if (!gif) throw Error(ErrorCode::kDecode, std::string("Input GIF is corrupt: ") + GifError(err));
  const int sw = gif->SWidth, sh = gif->SHeight;
  if (sw <= 0 || sh <= 0) throw Error(ErrorCode::kDecode, "Input GIF has no size");
  if (maxPixels > 0 && uint64_t(sw) * uint64_t(sh) > maxPixels) {
    throw Error(ErrorCode::kInputTooLarge, "Input image exceeds pixel limit: " + std::to_string(sw) + "x" +
                                               std::to_string(sh) + " > maxPixels " + std::to_string(maxPixels));
  }
  // Read records up to the first image only (DGifSlurp would decode every frame, each allocated at the size its own
  // descriptor claims: a small logical screen can hide a frame of billions of pixels or thousands of frames).
  int transparent = -1;
  GifImageDesc d{};
  std::vector<GifPixelType> raster;
  const ColorMapObject* cmap = nullptr;
  for (bool done = false; !done;) {
    GifRecordType type;
    if (DGifGetRecordType(gif.get(), &type) == GIF_ERROR) {
      throw Error(ErrorCode::kDecode, std::string("Input GIF is corrupt or truncated: ") + GifError(gif->Error));
    }
    switch (type) {
      case EXTENSION_RECORD_TYPE: {
        int code = 0;
        GifByteType* block = nullptr;
        if (DGifGetExtension(gif.get(), &code, &block) == GIF_ERROR) {
          throw Error(ErrorCode::kDecode, "Input GIF is corrupt or truncated: bad extension block");
        }
        GraphicsControlBlock gcb;
        if (code == GRAPHICS_EXT_FUNC_CODE && block != nullptr && DGifExtensionToGCB(block[0], block + 1, &gcb) == GIF_OK) {
          transparent = gcb.TransparentColor;
        }
        while (block != nullptr) {
          if (DGifGetExtensionNext(gif.get(), &block) == GIF_ERROR) {
            throw Error(ErrorCode::kDecode, "Input GIF is corrupt or truncated: bad extension block");
          }
        }
        break;
      }
      case IMAGE_DESC_RECORD_TYPE: {
        if (DGifGetImageDesc(gif.get()) == GIF_ERROR) {
          throw Error(ErrorCode::kDecode, std::string("Input GIF is corrupt: ") + GifError(gif->Error));
        }
        d = gif->Image;
        if (d.Width <= 0 || d.Height <= 0) throw Error(ErrorCode::kDecode, "Input GIF frame has no size");
        if (maxPixels > 0 && uint64_t(d.Width) * uint64_t(d.Height) > maxPixels) {
          throw Error(ErrorCode::kInputTooLarge, "Input GIF frame exceeds pixel limit: " + std::to_string(d.Width) +
                                                     "x" + std::to_string(d.Height) + " > maxPixels " +
                                                     std::to_string(maxPixels));
        }
        raster.resize(static_cast<size_t>(d.Width) * d.Height);
        auto line = [&](int y) {
          if (DGifGetLine(gif.get(), raster.data() + static_cast<size_t>(y) * d.Width, d.Width) == GIF_ERROR) {
            throw Error(ErrorCode::kDecode,
                        std::string("Input GIF is corrupt or truncated: ") + GifError(gif->Error));
          }
        };
        if (d.Interlace) {
          static const int kOffset[4] = {0, 4, 2, 1}, kStep[4] = {8, 8, 4, 2};
          for (int pass = 0; pass < 4; pass++) {
            for (int y = kOffset[pass]; y < d.Height; y += kStep[pass]) line(y);
          }
        } else {
          for (int y = 0; y < d.Height; y++) line(y);
        }
        cmap = gif->Image.ColorMap != nullptr ? gif->Image.ColorMap : gif->SColorMap;
        done = true;
        break;
      }
      case TERMINATE_RECORD_TYPE:
        throw Error(ErrorCode::kDecode, "Input GIF has no image");
      default:
        break;
    }
  }
  if (cmap == nullptr) throw Error(ErrorCode::kDecode, "Input GIF has no colour map");

  // Transparent and uncovered pixels become white, as they show on a web page.
  cv::Mat rgb(sh, sw, CV_8UC3, cv::Scalar(255, 255, 255));
  for (int y = 0; y < d.Height; y++) {
    const int sy = d.Top + y;
    if (sy < 0 || sy >= sh) continue;
    uint8_t* row = rgb.ptr<uint8_t>(sy);
    for (int x = 0; x < d.Width; x++) {
      const int sx = d.Left + x;
      if (sx < 0 || sx >= sw) continue;
      const int idx = raster[static_cast<size_t>(y) * d.Width + x];
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
