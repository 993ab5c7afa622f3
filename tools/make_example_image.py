"""Renders examples/images/hello.png, the README's example (our own synthetic text, DejaVu fonts from Debian)."""
import os
from PIL import Image, ImageDraw, ImageFont

D = '/usr/share/fonts/truetype/dejavu/'
OUT = os.path.join(os.path.dirname(__file__), '..', 'examples', 'images', 'hello.png')

im = Image.new('RGB', (640, 420), (250, 248, 240))
d = ImageDraw.Draw(im)
d.text((30, 24), 'craft-text', fill=(20, 20, 20), font=ImageFont.truetype(D + 'DejaVuSans-Bold.ttf', 48))
d.text((30, 100), 'Character Region Awareness', fill=(40, 40, 40), font=ImageFont.truetype(D + 'DejaVuSerif.ttf', 30))
d.text((30, 145), 'for Text detection, in Node.js', fill=(40, 40, 40), font=ImageFont.truetype(D + 'DejaVuSerif.ttf', 30))
d.rectangle((30, 210, 610, 290), fill=(30, 60, 120))
d.text((50, 228), 'White on blue works too', fill=(255, 255, 255), font=ImageFont.truetype(D + 'DejaVuSans.ttf', 32))
mono = ImageFont.truetype(D + 'DejaVuSansMono.ttf', 20)
for i, line in enumerate(['Invoice 2026-11-22   Total $41.90', 'Qty 3  Item: coffee beans  #A-1043']):
    d.text((30, 320 + i * 34), line, fill=(10, 10, 10), font=mono)
im.save(OUT)
