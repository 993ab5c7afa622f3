// Detects words in an image and prints them: node examples/detect.js [image] [model.onnx]
'use strict';
const path = require('node:path');
const { Detector } = require('..');

(async () => {
  const image = process.argv[2] ?? path.join(__dirname, 'images', 'hello.png');
  const detector = await Detector.create(process.argv[3] ? { model: process.argv[3] } : {});
  const { width, height, words, timings } = await detector.detect(image, { polygons: true });
  console.log(`${image}: ${width}x${height}, ${words.length} words`, timings);
  for (const w of words) console.log(w.score.toFixed(2), JSON.stringify(w.box.map(([x, y]) => [Math.round(x), Math.round(y)])));
  await detector.dispose();
})();
