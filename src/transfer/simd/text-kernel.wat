;; FILE frames of text, 16 bytes at a time (WebAssembly SIMD). The JavaScript fast path
;; (../codec/frame-parser.ts) reads the same canonical layout four bytes at a time; this is its
;; faster twin for bytes that already sit in the kernel's memory (text-kernel.ts lays it out).
;;
;; Memory: [0, 16) results of the last call, four i32 (outEnd, chars, highBytes, next);
;; [16, 20) the length of the frame prefix; [32, 32 + 2048) the frame prefix; the rest is the user's.
;;
;; Assembled by `npm run gen` (scripts/codegen/wasm.ts) into src/generated/text-kernel-wasm.ts.
(module
  (memory (export "memory") 16 16)

  ;; Results go to memory at 0 (JavaScript reads memory faster than it reads a Global).

  ;; Decodes the JSON string body at [i, end) into `o` as the canonical layout writes it: raw
  ;; UTF-8, and only the escapes JSON.stringify writes for ASCII (\" \\ \/ \b \f \n \r \t, \u00XX
  ;; below 0x80). Returns the index of the closing quote, with outEnd (the end of the decoded
  ;; bytes), chars (code points: bytes that are not 10xxxxxx, one per escape) and highBytes
  ;; (non-zero when a byte >= 0x80 was copied) stored at 0; or -1 for anything else (a raw control
  ;; character, another escape, no quote before `end`), which the caller leaves to JSON.parse.
  ;; Writes up to 16 bytes past the decoded ones.
  (func $decodeText (export "decodeText") (param $i i32) (param $end i32) (param $o i32) (result i32)
    (local $block v128) (local $special i32) (local $plain i32) (local $keep i32)
    (local $chars i32) (local $high i32) (local $byte i32)
    (block $invalid
      (loop $next
        ;; Plain bytes, 16 at a time, until a block holds a quote, a backslash or a control byte.
        (block $byteByByte
          (loop $blocks
            (br_if $byteByByte (i32.gt_u (i32.add (local.get $i) (i32.const 16)) (local.get $end)))
            (local.set $block (v128.load align=1 (local.get $i)))
            (local.set $special (i8x16.bitmask (v128.or (v128.or
              (i8x16.lt_u (local.get $block) (i8x16.splat (i32.const 0x20)))
              (i8x16.eq (local.get $block) (i8x16.splat (i32.const 0x22))))
              (i8x16.eq (local.get $block) (i8x16.splat (i32.const 0x5c))))))
            (v128.store align=1 (local.get $o) (local.get $block))
            (if (local.get $special)
              (then
                ;; The bytes before the first special one are plain: keep just those.
                (local.set $plain (i32.ctz (local.get $special)))
                (local.set $keep (i32.sub (i32.shl (i32.const 1) (local.get $plain)) (i32.const 1)))
                (local.set $chars (i32.add (local.get $chars)
                  (i32.popcnt (i32.and (local.get $keep) (call $leadMask (local.get $block))))))
                (local.set $high (i32.or (local.get $high) (i32.and (local.get $keep) (i8x16.bitmask (local.get $block)))))
                (local.set $i (i32.add (local.get $i) (local.get $plain)))
                (local.set $o (i32.add (local.get $o) (local.get $plain)))
                (br $byteByByte)))
            (local.set $chars (i32.add (local.get $chars) (i32.popcnt (call $leadMask (local.get $block)))))
            (local.set $high (i32.or (local.get $high) (i8x16.bitmask (local.get $block))))
            (local.set $i (i32.add (local.get $i) (i32.const 16)))
            (local.set $o (i32.add (local.get $o) (i32.const 16)))
            (br $blocks)))

        ;; One byte: the closing quote, an escape, or a plain byte of the last few.
        (br_if $invalid (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $byte (i32.load8_u (local.get $i)))
        (if (i32.eq (local.get $byte) (i32.const 0x22))
          (then
            (i32.store (i32.const 0) (local.get $o))
            (i32.store (i32.const 4) (local.get $chars))
            (i32.store (i32.const 8) (local.get $high))
            (return (local.get $i))))
        (br_if $invalid (i32.lt_u (local.get $byte) (i32.const 0x20)))
        (if (i32.eq (local.get $byte) (i32.const 0x5c))
          (then
            (local.set $byte (call $escaped (local.get $i) (local.get $end)))
            (br_if $invalid (i32.lt_s (local.get $byte) (i32.const 0)))
            (i32.store8 (local.get $o) (local.get $byte))
            (local.set $o (i32.add (local.get $o) (i32.const 1)))
            (local.set $chars (i32.add (local.get $chars) (i32.const 1)))
            (local.set $i (global.get $escapeEnd))
            (br $next)))
        (i32.store8 (local.get $o) (local.get $byte))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (local.set $chars (i32.add (local.get $chars)
          (i32.ne (i32.and (local.get $byte) (i32.const 0xc0)) (i32.const 0x80))))
        (local.set $high (i32.or (local.get $high) (i32.and (local.get $byte) (i32.const 0x80))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.const -1))

  ;; Decodes a run of FILE frames of text at [at, limit), each laid out as
  ;;   <prefix><chunk>,"text":"<200 code points>"}\n
  ;; with the prefix stored at 32, numbered chunk, chunk + 1, ... up to lastChunk at most, into
  ;; `out`, one after another. Stops at the first line that is not such a frame (or not whole
  ;; before `limit`) and leaves it to the caller. Returns the number of frames decoded, with
  ;; outEnd, highBytes and next (where the line it stopped at starts) stored at 0.
  (func (export "parseTextFrames") (param $at i32) (param $limit i32) (param $out i32) (param $chunk f64) (param $lastChunk f64) (result i32)
    (local $frames i32) (local $high i32) (local $textStart i32) (local $quote i32)
    (block $stop
      (loop $frame
        (br_if $stop (f64.gt (local.get $chunk) (local.get $lastChunk)))
        (local.set $textStart (call $frameStart (local.get $at) (local.get $limit) (local.get $chunk)))
        (br_if $stop (i32.lt_s (local.get $textStart) (i32.const 0)))
        (local.set $quote (call $decodeText (local.get $textStart)
          (select (local.get $limit) (i32.add (local.get $textStart) (i32.const 1200))
                  (i32.lt_u (local.get $limit) (i32.add (local.get $textStart) (i32.const 1200))))
          (local.get $out)))
        (br_if $stop (i32.lt_s (local.get $quote) (i32.const 0)))
        (br_if $stop (i32.ne (i32.load (i32.const 4)) (i32.const 200)))
        ;; "}\n after the text
        (br_if $stop (i32.gt_s (i32.add (local.get $quote) (i32.const 3)) (local.get $limit)))
        (br_if $stop (i32.ne (i32.load16_u offset=1 align=1 (local.get $quote)) (i32.const 0x0a7d)))
        ;; A text with bytes >= 0x80 must not start inside a character (its UTF-8 is the caller's to check).
        (if (i32.load (i32.const 8))
          (then
            (br_if $stop (i32.eq (i32.and (i32.load8_u (local.get $out)) (i32.const 0xc0)) (i32.const 0x80)))
            (local.set $high (i32.const 1))))
        (local.set $out (i32.load (i32.const 0)))
        (local.set $at (i32.add (local.get $quote) (i32.const 3)))
        (local.set $chunk (f64.add (local.get $chunk) (f64.const 1)))
        (local.set $frames (i32.add (local.get $frames) (i32.const 1)))
        (br $frame)))
    (i32.store (i32.const 0) (local.get $out))
    (i32.store (i32.const 8) (local.get $high))
    (i32.store (i32.const 12) (local.get $at))
    (local.get $frames))

  ;; Decodes a run of FILE frames of base64 at [at, limit), each laid out as
  ;;   <prefix><chunk>,"text":"<200 characters of base64, no padding>","encoding":"base64"}\n
  ;; with the prefix stored at 32, numbered chunk, chunk + 1, ... up to lastChunk at most, into
  ;; `out`: 150 bytes each. Stops at the first line that is not such a frame (or not whole before
  ;; `limit`) and leaves it to the caller. Returns the number of frames decoded, with outEnd,
  ;; highBytes (0) and next stored at 0. Writes up to 16 bytes past the decoded ones.
  (func (export "parseBase64Frames") (param $at i32) (param $limit i32) (param $out i32) (param $chunk f64) (param $lastChunk f64) (result i32)
    (local $frames i32) (local $textStart i32) (local $i i32) (local $end i32)
    (block $stop
      (loop $frame
        (br_if $stop (f64.gt (local.get $chunk) (local.get $lastChunk)))
        (local.set $textStart (call $frameStart (local.get $at) (local.get $limit) (local.get $chunk)))
        (br_if $stop (i32.lt_s (local.get $textStart) (i32.const 0)))
        ;; 200 characters, then ","encoding":"base64"}\n (23 bytes)
        (local.set $end (i32.add (local.get $textStart) (i32.const 200)))
        (br_if $stop (i32.gt_s (i32.add (local.get $end) (i32.const 23)) (local.get $limit)))
        (br_if $stop (i32.eqz (i8x16.all_true (i8x16.eq (v128.load align=1 (local.get $end))
          (v128.const i8x16 34 44 34 101 110 99 111 100 105 110 103 34 58 34 98 97)))))
        (br_if $stop (i64.ne (i64.load offset=15 align=1 (local.get $end)) (i64.const 0x0a7d223436657361)))
        ;; 12 blocks of 16 characters, then 8.
        (local.set $i (local.get $textStart))
        (block $tail
          (loop $blocks
            (br_if $tail (i32.gt_u (i32.add (local.get $i) (i32.const 16)) (local.get $end)))
            (br_if $stop (i32.eqz (call $decodeBase64Block (v128.load align=1 (local.get $i)) (local.get $out) (i32.const 0xffff))))
            (local.set $i (i32.add (local.get $i) (i32.const 16)))
            (local.set $out (i32.add (local.get $out) (i32.const 12)))
            (br $blocks)))
        (br_if $stop (i32.eqz (call $decodeBase64Block (v128.load64_zero align=1 (local.get $i)) (local.get $out) (i32.const 0xff))))
        (local.set $out (i32.add (local.get $out) (i32.const 6)))
        (local.set $at (i32.add (local.get $end) (i32.const 23)))
        (local.set $chunk (f64.add (local.get $chunk) (f64.const 1)))
        (local.set $frames (i32.add (local.get $frames) (i32.const 1)))
        (br $frame)))
    (i32.store (i32.const 0) (local.get $out))
    (i32.store (i32.const 8) (i32.const 0))
    (i32.store (i32.const 12) (local.get $at))
    (local.get $frames))

  ;; Decodes the base64 characters of `block` whose lanes `lanes` marks (all 16, or the low 8) into
  ;; 3 bytes per 4 characters at `out` (writing 16 bytes); 0 when one of them is not in the
  ;; alphabet. The classification and the shift to 6-bit values follow Wojciech Mula's SIMD base64
  ;; decoder: a table by low nibble and one by high nibble, whose bits meet only for invalid bytes.
  (func $decodeBase64Block (param $block v128) (param $out i32) (param $lanes i32) (result i32)
    (local $high v128) (local $values v128)
    (local.set $high (i8x16.shr_u (local.get $block) (i32.const 4)))
    (if (i32.and (local.get $lanes) (i8x16.bitmask (i8x16.ne (v128.const i32x4 0 0 0 0) (v128.and
          (i8x16.swizzle (v128.const i8x16 0x15 0x11 0x11 0x11 0x11 0x11 0x11 0x11 0x11 0x11 0x13 0x1a 0x1b 0x1b 0x1b 0x1a)
                         (v128.and (local.get $block) (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15)))
          (i8x16.swizzle (v128.const i8x16 0x10 0x10 0x01 0x02 0x04 0x08 0x04 0x08 0x10 0x10 0x10 0x10 0x10 0x10 0x10 0x10)
                         (local.get $high))))))
      (then (return (i32.const 0))))
    ;; '/' shares its high nibble with '+': it takes the table's entry one before.
    (local.set $values (i8x16.add (local.get $block)
      (i8x16.swizzle (v128.const i8x16 0 16 19 4 -65 -65 -71 -71 0 0 0 0 0 0 0 0)
        (i8x16.add (local.get $high) (i8x16.eq (local.get $block) (v128.const i8x16 47 47 47 47 47 47 47 47 47 47 47 47 47 47 47 47))))))
    ;; Four 6-bit values a b c d per 32-bit lane → a<<18 | b<<12 | c<<6 | d, then its three bytes
    ;; high first.
    (local.set $values (v128.or
      (i16x8.shl (v128.and (local.get $values) (v128.const i16x8 0xff 0xff 0xff 0xff 0xff 0xff 0xff 0xff)) (i32.const 6))
      (i16x8.shr_u (local.get $values) (i32.const 8))))
    (local.set $values (v128.or
      (i32x4.shl (v128.and (local.get $values) (v128.const i32x4 0xffff 0xffff 0xffff 0xffff)) (i32.const 12))
      (i32x4.shr_u (local.get $values) (i32.const 16))))
    (v128.store align=1 (local.get $out)
      (i8x16.shuffle 2 1 0 6 5 4 10 9 8 14 13 12 3 7 11 15 (local.get $values) (local.get $values)))
    (i32.const 1))

  ;; Encodes the text at [at, end) as FILE frames into `out`: for each chunk of 200 code points,
  ;;   <prefix><chunk>,"text":"<the 200 code points, escaped as JSON.stringify escapes>"}\n
  ;; with the prefix stored at 32, numbered chunk, chunk + 1, ... A chunk is written only once a
  ;; byte after its 200 code points shows it is not the file's last, and only while `frameRoom`
  ;; bytes (the longest frame) fit before outLimit. Returns the number of frames written, with
  ;; outEnd and next (where the first chunk not written starts) stored at 0.
  (func (export "encodeTextFrames") (param $at i32) (param $end i32) (param $out i32) (param $outLimit i32) (param $chunk f64) (param $frameRoom i32) (result i32)
    (local $frames i32) (local $frameStart i32) (local $i i32) (local $chars i32) (local $block v128)
    (local $special i32) (local $leads i32) (local $plain i32) (local $byte i32)
    (block $stop
      (loop $frame
        (br_if $stop (i32.gt_s (i32.add (local.get $out) (local.get $frameRoom)) (local.get $outLimit)))
        (local.set $frameStart (local.get $out))
        (memory.copy (local.get $out) (i32.const 32) (i32.load (i32.const 16)))
        (local.set $out (call $writeDecimal (i32.add (local.get $out) (i32.load (i32.const 16))) (local.get $chunk)))
        (i64.store align=1 (local.get $out) (i64.const 0x3a2274786574222c))
        (i32.store8 offset=8 (local.get $out) (i32.const 0x22))
        (local.set $out (i32.add (local.get $out) (i32.const 9)))
        (local.set $i (local.get $at))
        (local.set $chars (i32.const 0))
        (block $chunkEnd
          (loop $next
            ;; Plain bytes 16 at a time while they keep within 200 code points.
            (block $byteByByte
              (loop $blocks
                (br_if $byteByByte (i32.gt_u (i32.add (local.get $i) (i32.const 16)) (local.get $end)))
                (local.set $block (v128.load align=1 (local.get $i)))
                (local.set $special (i8x16.bitmask (v128.or (v128.or
                  (i8x16.lt_u (local.get $block) (i8x16.splat (i32.const 0x20)))
                  (i8x16.eq (local.get $block) (i8x16.splat (i32.const 0x22))))
                  (i8x16.eq (local.get $block) (i8x16.splat (i32.const 0x5c))))))
                (local.set $leads (call $leadMask (local.get $block)))
                ;; With a byte to escape, only the bytes before it go as a block.
                (local.set $plain (select (i32.ctz (local.get $special)) (i32.const 16) (local.get $special)))
                (local.set $leads (i32.popcnt (i32.and (local.get $leads)
                  (i32.sub (i32.shl (i32.const 1) (local.get $plain)) (i32.const 1)))))
                (br_if $byteByByte (i32.gt_u (i32.add (local.get $chars) (local.get $leads)) (i32.const 200)))
                (v128.store align=1 (local.get $out) (local.get $block))
                (local.set $chars (i32.add (local.get $chars) (local.get $leads)))
                (local.set $i (i32.add (local.get $i) (local.get $plain)))
                (local.set $out (i32.add (local.get $out) (local.get $plain)))
                (br_if $byteByByte (local.get $special))
                (br $blocks)))
            ;; One byte: it may end the chunk, start a character, or need an escape.
            (if (i32.ge_u (local.get $i) (local.get $end))
              (then
                ;; No byte after the chunk yet: it may be the file's last. Not written.
                (local.set $out (local.get $frameStart))
                (br $stop)))
            (local.set $byte (i32.load8_u (local.get $i)))
            (if (i32.ne (i32.and (local.get $byte) (i32.const 0xc0)) (i32.const 0x80))
              (then
                (br_if $chunkEnd (i32.eq (local.get $chars) (i32.const 200)))
                (local.set $chars (i32.add (local.get $chars) (i32.const 1)))))
            (local.set $out (call $writeEscaped (local.get $out) (local.get $byte)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $next)))
        ;; "}\n
        (i32.store8 (local.get $out) (i32.const 0x22))
        (i32.store16 offset=1 align=1 (local.get $out) (i32.const 0x0a7d))
        (local.set $out (i32.add (local.get $out) (i32.const 3)))
        (local.set $at (local.get $i))
        (local.set $chunk (f64.add (local.get $chunk) (f64.const 1)))
        (local.set $frames (i32.add (local.get $frames) (i32.const 1)))
        (br $frame)))
    (i32.store (i32.const 0) (local.get $out))
    (i32.store (i32.const 12) (local.get $at))
    (local.get $frames))

  ;; Encodes the bytes at [at, end) as FILE frames of base64 into `out`: for each 150 bytes,
  ;;   <prefix><chunk>,"text":"<200 characters of base64>","encoding":"base64"}\n
  ;; with the prefix stored at 32, numbered chunk, chunk + 1, ... A chunk is written only when a
  ;; byte follows it (the file's last chunk travels as FILE-END), and only while `frameRoom` bytes
  ;; fit before outLimit. Returns the number of frames written, with outEnd and next stored at 0.
  (func (export "encodeBase64Frames") (param $at i32) (param $end i32) (param $out i32) (param $outLimit i32) (param $chunk f64) (param $frameRoom i32) (result i32)
    (local $frames i32) (local $i i32) (local $stop i32)
    (block $done
      (loop $frame
        (br_if $done (i32.le_s (i32.sub (local.get $end) (local.get $at)) (i32.const 150)))
        (br_if $done (i32.gt_s (i32.add (local.get $out) (local.get $frameRoom)) (local.get $outLimit)))
        (memory.copy (local.get $out) (i32.const 32) (i32.load (i32.const 16)))
        (local.set $out (call $writeDecimal (i32.add (local.get $out) (i32.load (i32.const 16))) (local.get $chunk)))
        (i64.store align=1 (local.get $out) (i64.const 0x3a2274786574222c))
        (i32.store8 offset=8 (local.get $out) (i32.const 0x22))
        (local.set $out (i32.add (local.get $out) (i32.const 9)))
        ;; 12 blocks of 12 bytes, then 6 (the load reads 2 more, which are not used).
        (local.set $i (local.get $at))
        (local.set $stop (i32.add (local.get $at) (i32.const 144)))
        (loop $blocks
          (v128.store align=1 (local.get $out) (call $encodeBase64Block (v128.load align=1 (local.get $i))))
          (local.set $i (i32.add (local.get $i) (i32.const 12)))
          (local.set $out (i32.add (local.get $out) (i32.const 16)))
          (br_if $blocks (i32.lt_u (local.get $i) (local.get $stop))))
        (i64.store align=1 (local.get $out) (i64x2.extract_lane 0 (call $encodeBase64Block (v128.load64_zero align=1 (local.get $i)))))
        (local.set $out (i32.add (local.get $out) (i32.const 8)))
        ;; ","encoding":"base64"}\n
        (v128.store align=1 (local.get $out) (v128.const i8x16 34 44 34 101 110 99 111 100 105 110 103 34 58 34 98 97))
        (i64.store offset=15 align=1 (local.get $out) (i64.const 0x0a7d223436657361))
        (local.set $out (i32.add (local.get $out) (i32.const 23)))
        (local.set $at (i32.add (local.get $at) (i32.const 150)))
        (local.set $chunk (f64.add (local.get $chunk) (f64.const 1)))
        (local.set $frames (i32.add (local.get $frames) (i32.const 1)))
        (br $frame)))
    (i32.store (i32.const 0) (local.get $out))
    (i32.store (i32.const 12) (local.get $at))
    (local.get $frames))

  ;; The 16 characters of base64 for the first 12 bytes of `block` (Wojciech Mula's encoder: each
  ;; 3 bytes spread over a 32-bit lane, cut into four 6-bit values, each shifted into the alphabet
  ;; by a table indexed by its range).
  (func $encodeBase64Block (param $block v128) (result v128)
    (local $lanes v128) (local $values v128)
    ;; Lane i: the 24-bit number of bytes 3i, 3i+1, 3i+2 (the first the highest).
    (local.set $lanes (i8x16.swizzle (local.get $block)
      (v128.const i8x16 2 1 0 -1 5 4 3 -1 8 7 6 -1 11 10 9 -1)))
    ;; Its four 6-bit values, highest first, as the lane's four bytes.
    (local.set $values (v128.or (v128.or
      (v128.and (i32x4.shr_u (local.get $lanes) (i32.const 18)) (v128.const i32x4 0x3f 0x3f 0x3f 0x3f))
      (v128.and (i32x4.shr_u (local.get $lanes) (i32.const 4)) (v128.const i32x4 0x3f00 0x3f00 0x3f00 0x3f00)))
      (v128.or
      (v128.and (i32x4.shl (local.get $lanes) (i32.const 10)) (v128.const i32x4 0x3f0000 0x3f0000 0x3f0000 0x3f0000))
      (v128.and (i32x4.shl (local.get $lanes) (i32.const 24)) (v128.const i32x4 0x3f000000 0x3f000000 0x3f000000 0x3f000000)))))
    ;; 0..25 → 'A'.., 26..51 → 'a'.., 52..61 → '0'.., 62 → '+', 63 → '/'
    (i8x16.add (local.get $values)
      (i8x16.swizzle (v128.const i8x16 71 -4 -4 -4 -4 -4 -4 -4 -4 -4 -4 -19 -16 65 0 0)
        (v128.or (i8x16.sub_sat_u (local.get $values) (v128.const i8x16 51 51 51 51 51 51 51 51 51 51 51 51 51 51 51 51))
                 (v128.and (i8x16.lt_u (local.get $values) (v128.const i8x16 26 26 26 26 26 26 26 26 26 26 26 26 26 26 26 26))
                           (v128.const i8x16 13 13 13 13 13 13 13 13 13 13 13 13 13 13 13 13))))))

  ;; Writes the byte at `out` as JSON.stringify writes it in a string; returns the position after.
  (func $writeEscaped (param $out i32) (param $byte i32) (result i32)
    (local $short i32)
    (if (i32.and (i32.ge_u (local.get $byte) (i32.const 0x20))
                 (i32.and (i32.ne (local.get $byte) (i32.const 0x22)) (i32.ne (local.get $byte) (i32.const 0x5c))))
      (then
        (i32.store8 (local.get $out) (local.get $byte))
        (return (i32.add (local.get $out) (i32.const 1)))))
    (local.set $short
      (select (i32.const 0x22) (select (i32.const 0x5c) (select (i32.const 0x62) (select (i32.const 0x66)
        (select (i32.const 0x6e) (select (i32.const 0x72) (select (i32.const 0x74) (i32.const 0)
          (i32.eq (local.get $byte) (i32.const 0x09)))
          (i32.eq (local.get $byte) (i32.const 0x0d)))
          (i32.eq (local.get $byte) (i32.const 0x0a)))
          (i32.eq (local.get $byte) (i32.const 0x0c)))
          (i32.eq (local.get $byte) (i32.const 0x08)))
          (i32.eq (local.get $byte) (i32.const 0x5c)))
          (i32.eq (local.get $byte) (i32.const 0x22))))
    (i32.store8 (local.get $out) (i32.const 0x5c))
    (if (local.get $short)
      (then
        (i32.store8 offset=1 (local.get $out) (local.get $short))
        (return (i32.add (local.get $out) (i32.const 2)))))
    ;; \u00xx, lower-case hex
    (i32.store offset=1 align=1 (local.get $out) (i32.const 0x30303075))
    (i32.store8 offset=5 (local.get $out) (call $hexDigit (i32.and (local.get $byte) (i32.const 15))))
    (i32.store8 offset=4 (local.get $out) (call $hexDigit (i32.shr_u (local.get $byte) (i32.const 4))))
    (i32.add (local.get $out) (i32.const 6)))

  (func $hexDigit (param $value i32) (result i32)
    (i32.add (local.get $value) (select (i32.const 0x30) (i32.const 0x57) (i32.lt_u (local.get $value) (i32.const 10)))))

  ;; Writes a non-negative integer below 2^53 in decimal at `out`; returns the position after.
  (func $writeDecimal (param $out i32) (param $value f64) (result i32)
    (local $rest i64) (local $digits i32) (local $number i64) (local $at i32)
    (local.set $number (i64.trunc_f64_u (local.get $value)))
    (local.set $rest (local.get $number))
    (local.set $digits (i32.const 1))
    (block $counted
      (loop $count
        (br_if $counted (i64.lt_u (local.get $rest) (i64.const 10)))
        (local.set $rest (i64.div_u (local.get $rest) (i64.const 10)))
        (local.set $digits (i32.add (local.get $digits) (i32.const 1)))
        (br $count)))
    (local.set $at (i32.add (local.get $out) (local.get $digits)))
    (loop $digit
      (local.set $at (i32.sub (local.get $at) (i32.const 1)))
      (i32.store8 (local.get $at) (i32.add (i32.const 0x30) (i32.wrap_i64 (i64.rem_u (local.get $number) (i64.const 10)))))
      (local.set $number (i64.div_u (local.get $number) (i64.const 10)))
      (br_if $digit (i32.gt_u (local.get $at) (local.get $out))))
    (i32.add (local.get $out) (local.get $digits)))

  ;; Where the text of the frame at `at` starts, when it starts with the prefix stored at 32 and
  ;; exactly the chunk number `chunk` (decimal, no leading zero), then ,"text":" — all before
  ;; `limit`; else -1.
  (func $frameStart (param $at i32) (param $limit i32) (param $chunk f64) (result i32)
    (local $prefixLength i32) (local $i i32) (local $value f64) (local $digits i32) (local $byte i32)
    (local.set $prefixLength (i32.load (i32.const 16)))
    (if (i32.lt_s (i32.sub (local.get $limit) (local.get $at)) (i32.add (local.get $prefixLength) (i32.const 9)))
      (then (return (i32.const -1))))
    (if (i32.eqz (call $equal (local.get $at) (i32.const 32) (local.get $prefixLength)))
      (then (return (i32.const -1))))
    (local.set $i (i32.add (local.get $at) (local.get $prefixLength)))
    (block $numberEnd
      (loop $digit
        (br_if $numberEnd (i32.ge_u (local.get $i) (local.get $limit)))
        (local.set $byte (i32.sub (i32.load8_u (local.get $i)) (i32.const 0x30)))
        (br_if $numberEnd (i32.gt_u (local.get $byte) (i32.const 9)))
        (if (i32.ge_u (local.get $digits) (i32.const 16)) (then (return (i32.const -1))))
        (local.set $value (f64.add (f64.mul (local.get $value) (f64.const 10)) (f64.convert_i32_u (local.get $byte))))
        (local.set $digits (i32.add (local.get $digits) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $digit)))
    (if (i32.or (i32.eqz (local.get $digits)) (f64.ne (local.get $value) (local.get $chunk)))
      (then (return (i32.const -1))))
    (if (i32.and (i32.gt_u (local.get $digits) (i32.const 1))
                 (i32.eq (i32.load8_u (i32.add (local.get $at) (local.get $prefixLength))) (i32.const 0x30)))
      (then (return (i32.const -1))))
    ;; ,"text":"
    (if (i32.gt_s (i32.add (local.get $i) (i32.const 9)) (local.get $limit)) (then (return (i32.const -1))))
    (if (i64.ne (i64.load align=1 (local.get $i)) (i64.const 0x3a2274786574222c)) (then (return (i32.const -1))))
    (if (i32.ne (i32.load8_u offset=8 (local.get $i)) (i32.const 0x22)) (then (return (i32.const -1))))
    (i32.add (local.get $i) (i32.const 9)))

  ;; Whether `length` bytes at a and at b are equal.
  (func $equal (param $a i32) (param $b i32) (param $length i32) (result i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $a) (local.get $length)))
    (block $tail
      (loop $blocks
        (br_if $tail (i32.gt_u (i32.add (local.get $a) (i32.const 16)) (local.get $end)))
        (if (i32.eqz (i8x16.all_true (i8x16.eq (v128.load align=1 (local.get $a)) (v128.load align=1 (local.get $b)))))
          (then (return (i32.const 0))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (br $blocks)))
    (block $done
      (loop $bytes
        (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
        (if (i32.ne (i32.load8_u (local.get $a)) (i32.load8_u (local.get $b)))
          (then (return (i32.const 0))))
        (local.set $a (i32.add (local.get $a) (i32.const 1)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $bytes)))
    (i32.const 1))

  ;; One bit per byte of the block that starts a character (is not 10xxxxxx, i.e. not below -64
  ;; as a signed byte).
  (func $leadMask (param $block v128) (result i32)
    (i32.xor
      (i8x16.bitmask (i8x16.lt_s (local.get $block) (i8x16.splat (i32.const -64))))
      (i32.const 0xffff)))

  ;; Where the last escape ended.
  (global $escapeEnd (mut i32) (i32.const 0))

  ;; The ASCII byte the escape at `at` (its backslash) stands for, setting escapeEnd; -1 when it is
  ;; not one of those JSON.stringify writes for ASCII, or runs past `end`.
  (func $escaped (param $at i32) (param $end i32) (result i32)
    (local $letter i32) (local $high i32) (local $low i32)
    (if (i32.ge_u (i32.add (local.get $at) (i32.const 1)) (local.get $end)) (then (return (i32.const -1))))
    (local.set $letter (i32.load8_u offset=1 (local.get $at)))
    (global.set $escapeEnd (i32.add (local.get $at) (i32.const 2)))
    (if (i32.or (i32.or (i32.eq (local.get $letter) (i32.const 0x22)) (i32.eq (local.get $letter) (i32.const 0x5c)))
                (i32.eq (local.get $letter) (i32.const 0x2f)))
      (then (return (local.get $letter))))
    (if (i32.eq (local.get $letter) (i32.const 0x6e)) (then (return (i32.const 0x0a))))
    (if (i32.eq (local.get $letter) (i32.const 0x74)) (then (return (i32.const 0x09))))
    (if (i32.eq (local.get $letter) (i32.const 0x72)) (then (return (i32.const 0x0d))))
    (if (i32.eq (local.get $letter) (i32.const 0x62)) (then (return (i32.const 0x08))))
    (if (i32.eq (local.get $letter) (i32.const 0x66)) (then (return (i32.const 0x0c))))
    (if (i32.ne (local.get $letter) (i32.const 0x75)) (then (return (i32.const -1))))
    ;; \u00XX with XX below 0x80; any other \u is left to JSON.parse (surrogates included).
    (if (i32.gt_u (i32.add (local.get $at) (i32.const 6)) (local.get $end)) (then (return (i32.const -1))))
    (if (i32.or (i32.ne (i32.load8_u offset=2 (local.get $at)) (i32.const 0x30))
                (i32.ne (i32.load8_u offset=3 (local.get $at)) (i32.const 0x30)))
      (then (return (i32.const -1))))
    (local.set $high (call $hexValue (i32.load8_u offset=4 (local.get $at))))
    (local.set $low (call $hexValue (i32.load8_u offset=5 (local.get $at))))
    (if (i32.or (i32.or (i32.lt_s (local.get $high) (i32.const 0)) (i32.lt_s (local.get $low) (i32.const 0)))
                (i32.gt_s (local.get $high) (i32.const 7)))
      (then (return (i32.const -1))))
    (global.set $escapeEnd (i32.add (local.get $at) (i32.const 6)))
    (i32.add (i32.shl (local.get $high) (i32.const 4)) (local.get $low)))

  (func $hexValue (param $byte i32) (result i32)
    (if (i32.lt_u (i32.sub (local.get $byte) (i32.const 0x30)) (i32.const 10))
      (then (return (i32.sub (local.get $byte) (i32.const 0x30)))))
    (if (i32.lt_u (i32.sub (local.get $byte) (i32.const 0x61)) (i32.const 6))
      (then (return (i32.sub (local.get $byte) (i32.const 0x57)))))
    (if (i32.lt_u (i32.sub (local.get $byte) (i32.const 0x41)) (i32.const 6))
      (then (return (i32.sub (local.get $byte) (i32.const 0x37)))))
    (i32.const -1))
)
