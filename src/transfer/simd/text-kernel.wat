;; The text loop of a FILE frame, 16 bytes at a time (WebAssembly SIMD). The JavaScript fast path
;; (../codec/frame-parser.ts) does the same four bytes at a time; this is its faster twin for the
;; bytes that already sit in the kernel's memory (text-kernel.ts lays the memory out).
;;
;; Assembled by `npm run gen` (scripts/codegen/wasm.ts) into src/generated/text-kernel-wasm.ts.
(module
  (memory (export "memory") 8 8)

  ;; What the last decodeText found besides the closing quote goes to memory at 0, as three i32:
  ;; outEnd, chars, highBytes (JavaScript reads memory faster than it reads a Global).

  ;; Decodes the JSON string body at [i, end) into `o` as the canonical layout writes it: raw
  ;; UTF-8, and only the escapes JSON.stringify writes for ASCII (\" \\ \/ \b \f \n \r \t, \u00XX
  ;; below 0x80). Returns the index of the closing quote, with outEnd (the end of the decoded
  ;; bytes), chars (code points: bytes that are not 10xxxxxx, one per escape) and highBytes
  ;; (non-zero when a byte >= 0x80 was copied) stored at 0; or -1 for anything else (a raw control
  ;; character, another escape, no quote before `end`), which the caller leaves to JSON.parse.
  ;; Writes up to 16 bytes past the decoded ones.
  (func (export "decodeText") (param $i i32) (param $end i32) (param $o i32) (result i32)
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
