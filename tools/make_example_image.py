"""Renders examples/images/hello.png, the README's example (our own synthetic text, DejaVu fonts from Debian), and
its ground truth examples/images/hello.gt.jsonl (one box per whitespace-separated word, from the fonts' ink boxes):
test/default-model.test.ts checks the bundled default model against it."""
import json
import os
from PIL import Image, ImageDraw, ImageFont

D = '/usr/share/fonts/truetype/dejavu/'
HERE = os.path.join(os.path.dirname(__file__), '..', 'examples', 'images')
OUT = os.path.join(HERE, 'hello.png')

im = Image.new('RGB', (640, 420), (250, 248, 240))
d = ImageDraw.Draw(im)
words = []


def text(xy, s, fill, font):
    d.text(xy, s, fill=fill, font=font)
    x, y = xy
    k = 0
    for w in s.split():
        k = s.index(w, k)
        x0 = x + font.getlength(s[:k])
        l, t, r, b = font.getbbox(w)
        words.append({'points': [[x0 + l, y + t], [x0 + r, y + t], [x0 + r, y + b], [x0 + l, y + b]], 'text': w})
        k += len(w)


text((30, 24), 'craft-text', (20, 20, 20), ImageFont.truetype(D + 'DejaVuSans-Bold.ttf', 48))
text((30, 100), 'Character Region Awareness', (40, 40, 40), ImageFont.truetype(D + 'DejaVuSerif.ttf', 30))
text((30, 145), 'for Text detection, in Node.js', (40, 40, 40), ImageFont.truetype(D + 'DejaVuSerif.ttf', 30))
d.rectangle((30, 210, 610, 290), fill=(30, 60, 120))
text((50, 228), 'White on blue works too', (255, 255, 255), ImageFont.truetype(D + 'DejaVuSans.ttf', 32))
mono = ImageFont.truetype(D + 'DejaVuSansMono.ttf', 20)
for i, line in enumerate(['Invoice 2026-11-22   Total $41.90', 'Qty 3  Item: coffee beans  #A-1043']):
    text((30, 320 + i * 34), line, (10, 10, 10), mono)
im.save(OUT)
with open(os.path.join(HERE, 'hello.gt.jsonl'), 'w') as fh:
    fh.write(json.dumps({'image': 'hello.png', 'words': words}) + '\n')
