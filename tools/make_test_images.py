"""Renders the small test images under test/fixtures/images (our own synthetic text, no external data).

Run: python3 tools/make_test_images.py   (needs pillow; DejaVu fonts from Debian's fonts-dejavu-core)
"""
import os
from PIL import Image, ImageDraw, ImageFont

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'images')
FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf'


def page(w=400, h=200, lines=('Hello CRAFT', 'text detector'), size=36, bg='white', fg='black'):
    im = Image.new('RGB', (w, h), bg)
    d = ImageDraw.Draw(im)
    f = ImageFont.truetype(FONT, size)
    for i, line in enumerate(lines):
        d.text((20, 30 + i * (size + 30)), line, fill=fg, font=f)
    return im


def progressive(im):
    # A progressive JPEG (libjpeg's standard script: 10 scans) must stay under the scan limit; a two-page TIFF whose
    # second page is big: only the first page is decoded (and checked against maxPixels).
    im.save(os.path.join(OUT, 'hello-progressive.jpg'), quality=92, progressive=True)
    big = Image.new('L', (3000, 3000), 255)
    im.save(os.path.join(OUT, 'hello-2pages.tiff'), compression='tiff_lzw', save_all=True, append_images=[big])


def main():
    os.makedirs(OUT, exist_ok=True)
    im = page()
    im.save(os.path.join(OUT, 'hello.png'))
    im.save(os.path.join(OUT, 'hello.jpg'), quality=92)
    progressive(im)
    im.convert('L').save(os.path.join(OUT, 'hello.bmp'))
    im.save(os.path.join(OUT, 'hello.tiff'), compression='tiff_lzw')
    im.save(os.path.join(OUT, 'hello.webp'), lossless=True)
    im.convert('P', palette=Image.ADAPTIVE, colors=16).save(os.path.join(OUT, 'hello.gif'))
    im.convert('L').save(os.path.join(OUT, 'hello-gray.png'))
    rgba = im.convert('RGBA')
    rgba.putalpha(200)
    rgba.save(os.path.join(OUT, 'hello-rgba.png'))
    # A tall page: exercises the canvas cap (long side 1600 * 1.5 > 1280) and odd sizes (padding to 32).
    page(333, 1600, lines=['line %d of a tall page' % i for i in range(20)], size=20).save(os.path.join(OUT, 'tall.png'))
    # Light on dark.
    page(bg='black', fg='white').save(os.path.join(OUT, 'inverted.png'))


if __name__ == '__main__':
    main()
