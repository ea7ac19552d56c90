/*
 * exif.mjs - write a tiny JPEG with EXIF (time taken, camera make and model, GPS) to argv[2],
 * for the photo metadata shown on the evidence row. Built by hand: no image library needed.
 */
import { writeFileSync } from 'node:fs';

function tiff() {
  /* little-endian TIFF: IFD0 (Make, Model, ExifIFD, GPS IFD), Exif IFD, GPS IFD, then data */
  const b = Buffer.alloc(512);
  let data = 200; /* where out-of-line values go */
  b.write('II', 0, 'latin1');
  b.writeUInt16LE(42, 2);
  b.writeUInt32LE(8, 4);
  const ifd = (off, entries) => {
    b.writeUInt16LE(entries.length, off);
    entries.forEach(([tag, type, count, value], i) => {
      const e = off + 2 + i * 12;
      b.writeUInt16LE(tag, e);
      b.writeUInt16LE(type, e + 2);
      b.writeUInt32LE(count, e + 4);
      if (typeof value === 'number') {
        b.writeUInt32LE(value, e + 8);
      } else if (value.length <= 4) {
        value.copy(b, e + 8);
      } else {
        value.copy(b, data);
        b.writeUInt32LE(data, e + 8);
        data += value.length + (value.length & 1);
      }
    });
    b.writeUInt32LE(0, off + 2 + entries.length * 12);
  };
  const ascii = (s) => Buffer.from(s + '\0', 'latin1');
  const rationals = (pairs) => {
    const r = Buffer.alloc(8 * pairs.length);
    pairs.forEach(([n, d], i) => { r.writeUInt32LE(n, 8 * i); r.writeUInt32LE(d, 8 * i + 4); });
    return r;
  };
  const make = ascii('Canon');
  const model = ascii('EOS 5D');
  ifd(8, [[0x010f, 2, make.length, make], [0x0110, 2, model.length, model],
    [0x8769, 4, 1, 80], [0x8825, 4, 1, 110]]);
  const when = ascii('2016:05:12 06:30:00');
  ifd(80, [[0x9003, 2, when.length, when]]);
  ifd(110, [[1, 2, 2, ascii('N')], [2, 5, 3, rationals([[44, 1], [45, 1], [0, 1]])],
    [3, 2, 2, ascii('E')], [4, 5, 3, rationals([[33, 1], [51, 1], [0, 1]])]]);
  return b.subarray(0, data);
}

const t = tiff();
const app1 = Buffer.concat([Buffer.from([0xff, 0xe1]), Buffer.alloc(2), Buffer.from('Exif\0\0', 'latin1'), t]);
app1.writeUInt16BE(app1.length - 2, 2);
/* SOI, APP1, then a minimal baseline 1x1 grey JPEG body */
const body = Buffer.from('ffdb004300080606070605080707070909080a0c140d0c0b0b0c1912130f141d1a1f1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27393d38323c2e333432ffc0000b080001000101011100ffc4001f0000010501010101010100000000000000000102030405060708090a0bffc400b5100002010303020403050504040000017d01020300041105122131410613516107227114328191a1082342b1c11552d1f02433627282090a161718191a25262728292a3435363738393a434445464748494a535455565758595a636465666768696a737475767778797a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9faffda0008010100003f00fbd3ffd9', 'hex');
writeFileSync(process.argv[2], Buffer.concat([Buffer.from([0xff, 0xd8]), app1, body]));
