;; The packed record reader's inner loop: one member's nested arrays of numbers,
;; read from the record's bytes into float64 values. packed-json.ts drives it
;; (the object, its keys, copying the record in, handing out views of the
;; values) and says which JSON it accepts; `npm run build:packed-json-wasm`
;; assembles this file into packed-json-wasm.ts, and a unit test checks the two
;; still match.
;;
;; Why WebAssembly: a record's fixed cost matters next to a small model's
;; prediction (~0.19 ms for the MNIST demo models, 0.04 ms for the smallest);
;; with this loop the packed path reads the 10.7 KiB MNIST record in less than
;; half the time the same loop in TypeScript took (BENCHMARKS.md, `npx tsx
;; bench/record-decoding.ts`).
;;
;; Memory, in bytes:
;;   0    count       values written so far for this record (read and written here)
;;   4    rank        the rank of the member just read
;;   8    valuesAt    where the values go (8-aligned, after the input; set by the caller)
;;   16   dims[32]    per depth: the length every array there must have, -1 until the first one closes
;;   144  lengths[32] per depth: the open array's length so far (a leaf's is kept in a local)
;;   272  10^0 … 10^22, the powers of ten that are exact doubles
;;   512  the record's bytes, then one 0 byte, so a read at the end sees no digit, bracket or comma
(module
  ;; The runtime's own correctly rounded conversion of the number text at [start, end),
  ;; for the numbers one exact floating-point operation cannot give.
  (import "packed" "slowNumber" (func $slowNumber (param $start i32) (param $end i32) (result f64)))
  (memory (export "memory") 1)

  (func $powersOfTen
    (local $k i32)
    (local $power f64)
    (local.set $power (f64.const 1))
    (loop $next
      (f64.store offset=272 (i32.shl (local.get $k) (i32.const 3)) (local.get $power))
      ;; Exact: every 10^k up to 10^22 is a double, so each product is too.
      (local.set $power (f64.mul (local.get $power) (f64.const 10)))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $next (i32.le_u (local.get $k) (i32.const 22)))))
  (start $powersOfTen)

  (func $skipWhitespace (param $pos i32) (param $end i32) (result i32)
    (local $c i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $pos) (local.get $end)))
        (local.set $c (i32.load8_u (local.get $pos)))
        (br_if $done
          (i32.eqz
            (i32.or
              (i32.or (i32.eq (local.get $c) (i32.const 0x20)) (i32.eq (local.get $c) (i32.const 0x0a)))
              (i32.or (i32.eq (local.get $c) (i32.const 0x0d)) (i32.eq (local.get $c) (i32.const 0x09))))))
        (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
        (br $next)))
    (local.get $pos))

  ;; Reads the member whose first '[' is at $pos (the input ends at $end).
  ;; Returns the position after its last ']', with its shape in rank and dims,
  ;; or -1 when it is not a rectangular array of numbers in JSON's grammar.
  ;; Arrays of numbers (the leaves) are read in their own loop, with their
  ;; length in a local: rows of numbers are most of a record.
  (func (export "member") (param $pos i32) (param $end i32) (result i32)
    (local $c i32)
    (local $depth i32)
    (local $leafDepth i32)
    (local $leafDim i32)
    (local $leafLength i32)
    (local $slot i32)
    (local $length i32)
    (local $start i32)
    (local $negative i32)
    (local $mantissa i64)
    (local $digits i32)
    (local $exponent i32)
    (local $fractionStart i32)
    (local $eight i64)
    (local $quad i32)
    (local $exponentSign i32)
    (local $written i32)
    (local $value f64)
    (local $next i32)
    (local $limit i32)
    (local.set $depth (i32.const -1))
    (local.set $leafDepth (i32.const -1))
    ;; The length every leaf array must have, set by the first one to close.
    (local.set $leafDim (i32.const -1))
    ;; Where the next value goes, and the memory's end.
    (local.set $next (i32.add (i32.load (i32.const 8)) (i32.shl (i32.load (i32.const 0)) (i32.const 3))))
    (local.set $limit (i32.shl (memory.size) (i32.const 16)))
    (loop $unset
      (i32.store offset=16 (local.get $slot) (i32.const -1))
      (local.set $slot (i32.add (local.get $slot) (i32.const 4)))
      (br_if $unset (i32.lt_u (local.get $slot) (i32.const 128))))
    (if (i32.ne (i32.load8_u (local.get $pos)) (i32.const 0x5b)) (then (return (i32.const -1))))
    (loop $open
      ;; $pos is at a '[': one level deeper. (An array among numbers is refused by the leaves' depth rule below.)
      (local.set $depth (i32.add (local.get $depth) (i32.const 1)))
      (if (i32.eq (local.get $depth) (i32.const 32)) (then (return (i32.const -1))))
      (i32.store offset=144 (i32.shl (local.get $depth) (i32.const 2)) (i32.const 0))
      (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
      (if (i32.le_u (i32.load8_u (local.get $pos)) (i32.const 0x20))
        (then (local.set $pos (call $skipWhitespace (local.get $pos) (local.get $end)))))
      (local.set $c (i32.load8_u (local.get $pos)))
      (br_if $open (i32.eq (local.get $c) (i32.const 0x5b)))
      ;; Empty arrays keep the general path's rules.
      (if (i32.eq (local.get $c) (i32.const 0x5d)) (then (return (i32.const -1))))
      ;; An array of numbers, a leaf: all of them must sit at one depth.
      (if (i32.eq (local.get $leafDepth) (i32.const -1))
        (then (local.set $leafDepth (local.get $depth)))
        (else (if (i32.ne (local.get $depth) (local.get $leafDepth)) (then (return (i32.const -1))))))
      (local.set $leafLength (i32.const 0))
      (loop $number
        ;; A number starts at $pos, its first byte in $c.
        (local.set $start (local.get $pos))
        (local.set $negative (i32.eq (local.get $c) (i32.const 0x2d)))
        (if (local.get $negative)
          (then
            (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
            (local.set $c (i32.load8_u (local.get $pos)))))
        ;; The digits as one integer (it wraps past 19 digits; then $digits sends the number to $slowNumber).
        (local.set $mantissa (i64.const 0))
        (local.set $digits (i32.const 0))
        (local.set $exponent (i32.const 0))
        (if (i32.eq (local.get $c) (i32.const 0x30))
          (then
            (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
            (local.set $c (i32.load8_u (local.get $pos))))
          (else
            (if (i32.eqz (i32.le_u (i32.sub (local.get $c) (i32.const 0x30)) (i32.const 9))) (then (return (i32.const -1))))
            (loop $integer
              (local.set $mantissa
                (i64.add (i64.mul (local.get $mantissa) (i64.const 10)) (i64.extend_i32_u (i32.sub (local.get $c) (i32.const 0x30)))))
              (local.set $digits (i32.add (local.get $digits) (i32.const 1)))
              (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
              (local.set $c (i32.load8_u (local.get $pos)))
              (br_if $integer (i32.le_u (i32.sub (local.get $c) (i32.const 0x30)) (i32.const 9))))))
        (if (i32.eq (local.get $c) (i32.const 0x2e))
          (then
            (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
            (local.set $c (i32.load8_u (local.get $pos)))
            (if (i32.eqz (i32.le_u (i32.sub (local.get $c) (i32.const 0x30)) (i32.const 9))) (then (return (i32.const -1))))
            (local.set $fractionStart (local.get $pos))
            ;; Fractions are where records spend their digits: eight at a time while they
            ;; last (one little-endian read, checked and combined by integer arithmetic), then four.
            (block $eightsDone
              (loop $eights
                (br_if $eightsDone (i32.gt_u (i32.add (local.get $pos) (i32.const 8)) (local.get $end)))
                (local.set $eight (i64.load (local.get $pos)))
                (br_if $eightsDone
                  (i64.ne
                    (i64.or
                      (i64.and (local.get $eight) (i64.const 0xf0f0f0f0f0f0f0f0))
                      (i64.shr_u (i64.and (i64.add (local.get $eight) (i64.const 0x0606060606060606)) (i64.const 0xf0f0f0f0f0f0f0f0)) (i64.const 4)))
                    (i64.const 0x3333333333333333)))
                (local.set $eight (i64.sub (local.get $eight) (i64.const 0x3030303030303030)))
                ;; Neighbouring digits pair up into 2-digit, then 4-digit, then one 8-digit number.
                (local.set $eight
                  (i64.and (i64.add (i64.mul (local.get $eight) (i64.const 10)) (i64.shr_u (local.get $eight) (i64.const 8))) (i64.const 0x00ff00ff00ff00ff)))
                (local.set $eight
                  (i64.and (i64.add (i64.mul (local.get $eight) (i64.const 100)) (i64.shr_u (local.get $eight) (i64.const 16))) (i64.const 0x0000ffff0000ffff)))
                (local.set $eight
                  (i64.and (i64.add (i64.mul (local.get $eight) (i64.const 10000)) (i64.shr_u (local.get $eight) (i64.const 32))) (i64.const 0xffffffff)))
                (local.set $mantissa (i64.add (i64.mul (local.get $mantissa) (i64.const 100000000)) (local.get $eight)))
                (local.set $pos (i32.add (local.get $pos) (i32.const 8)))
                (br $eights)))
            (block $quadsDone
              (loop $quads
                (br_if $quadsDone (i32.gt_u (i32.add (local.get $pos) (i32.const 4)) (local.get $end)))
                (local.set $quad (i32.load (local.get $pos)))
                (br_if $quadsDone
                  (i32.ne
                    (i32.or
                      (i32.and (local.get $quad) (i32.const 0xf0f0f0f0))
                      (i32.shr_u (i32.and (i32.add (local.get $quad) (i32.const 0x06060606)) (i32.const 0xf0f0f0f0)) (i32.const 4)))
                    (i32.const 0x33333333)))
                (local.set $quad (i32.sub (local.get $quad) (i32.const 0x30303030)))
                (local.set $quad
                  (i32.and (i32.add (i32.mul (local.get $quad) (i32.const 10)) (i32.shr_u (local.get $quad) (i32.const 8))) (i32.const 0x00ff00ff)))
                (local.set $quad
                  (i32.and (i32.add (i32.mul (local.get $quad) (i32.const 100)) (i32.shr_u (local.get $quad) (i32.const 16))) (i32.const 0x0000ffff)))
                (local.set $mantissa (i64.add (i64.mul (local.get $mantissa) (i64.const 10000)) (i64.extend_i32_u (local.get $quad))))
                (local.set $pos (i32.add (local.get $pos) (i32.const 4)))
                (br $quads)))
            (local.set $c (i32.load8_u (local.get $pos)))
            (block $fractionDone
              (loop $fraction
                (br_if $fractionDone (i32.eqz (i32.le_u (i32.sub (local.get $c) (i32.const 0x30)) (i32.const 9))))
                (local.set $mantissa
                  (i64.add (i64.mul (local.get $mantissa) (i64.const 10)) (i64.extend_i32_u (i32.sub (local.get $c) (i32.const 0x30)))))
                (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
                (local.set $c (i32.load8_u (local.get $pos)))
                (br $fraction)))
            (local.set $digits (i32.add (local.get $digits) (i32.sub (local.get $pos) (local.get $fractionStart))))
            (local.set $exponent (i32.sub (local.get $exponent) (i32.sub (local.get $pos) (local.get $fractionStart))))))
        (if (i32.eq (i32.or (local.get $c) (i32.const 0x20)) (i32.const 0x65)) ;; 'e' or 'E'
          (then
            (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
            (local.set $c (i32.load8_u (local.get $pos)))
            (local.set $exponentSign (select (i32.const -1) (i32.const 1) (i32.eq (local.get $c) (i32.const 0x2d))))
            (if (i32.or (i32.eq (local.get $c) (i32.const 0x2d)) (i32.eq (local.get $c) (i32.const 0x2b)))
              (then
                (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
                (local.set $c (i32.load8_u (local.get $pos)))))
            (if (i32.eqz (i32.le_u (i32.sub (local.get $c) (i32.const 0x30)) (i32.const 9))) (then (return (i32.const -1))))
            (local.set $written (i32.const 0))
            (loop $exponentDigits
              ;; Capped: any exponent this large already means 0 or out of range.
              (local.set $written (i32.add (i32.mul (local.get $written) (i32.const 10)) (i32.sub (local.get $c) (i32.const 0x30))))
              (if (i32.gt_u (local.get $written) (i32.const 1000000)) (then (local.set $written (i32.const 1000000))))
              (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
              (local.set $c (i32.load8_u (local.get $pos)))
              (br_if $exponentDigits (i32.le_u (i32.sub (local.get $c) (i32.const 0x30)) (i32.const 9))))
            (local.set $exponent (i32.add (local.get $exponent) (i32.mul (local.get $exponentSign) (local.get $written))))))
        ;; The value as JSON.parse would give it.
        (block $converted
          (if (i32.le_u (local.get $digits) (i32.const 19))
            (then
              (if (i64.eqz (local.get $mantissa))
                (then
                  (local.set $value (f64.const 0))
                  (br $converted)))
              ;; An integer up to 2^53 is an exact double, and so is 10^k up to k = 22:
              ;; one multiplication or division of the two is correctly rounded.
              (if (i32.and
                    (i64.le_u (local.get $mantissa) (i64.const 9007199254740992))
                    (i32.le_u (i32.add (local.get $exponent) (i32.const 22)) (i32.const 44)))
                (then
                  (local.set $value
                    (if (result f64) (i32.ge_s (local.get $exponent) (i32.const 0))
                      (then (f64.mul (f64.convert_i64_u (local.get $mantissa)) (f64.load offset=272 (i32.shl (local.get $exponent) (i32.const 3)))))
                      (else (f64.div (f64.convert_i64_u (local.get $mantissa)) (f64.load offset=272 (i32.shl (i32.sub (i32.const 0) (local.get $exponent)) (i32.const 3)))))))
                  (br $converted)))))
          ;; Too many digits or too large an exponent for one exact operation: let the runtime round it.
          ;; (Common: float32 values written as doubles have 16–17 digits, like 0.27058824896812439.)
          (local.set $value (f64.abs (call $slowNumber (local.get $start) (local.get $pos))))
          ;; Out of a double's range: the general path says so.
          (if (f64.eq (local.get $value) (f64.const inf)) (then (return (i32.const -1)))))
        (if (local.get $negative) (then (local.set $value (f64.neg (local.get $value)))))
        ;; Store it, growing the memory (doubling) when the values reach its end.
        (if (i32.gt_u (i32.add (local.get $next) (i32.const 8)) (local.get $limit))
          (then
            (if (i32.eq (memory.grow (memory.size)) (i32.const -1)) (then (return (i32.const -1))))
            (local.set $limit (i32.shl (memory.size) (i32.const 16)))))
        (f64.store (local.get $next) (local.get $value))
        (local.set $next (i32.add (local.get $next) (i32.const 8)))
        (local.set $leafLength (i32.add (local.get $leafLength) (i32.const 1)))
        ;; After a number: another one, or the end of the leaf.
        (if (i32.le_u (i32.load8_u (local.get $pos)) (i32.const 0x20))
          (then (local.set $pos (call $skipWhitespace (local.get $pos) (local.get $end)))))
        (local.set $c (i32.load8_u (local.get $pos)))
        (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
        (if (i32.eq (local.get $c) (i32.const 0x2c))
          (then
            (if (i32.le_u (i32.load8_u (local.get $pos)) (i32.const 0x20))
              (then (local.set $pos (call $skipWhitespace (local.get $pos) (local.get $end)))))
            (local.set $c (i32.load8_u (local.get $pos)))
            (br $number)))
        (if (i32.ne (local.get $c) (i32.const 0x5d)) (then (return (i32.const -1)))))
      ;; The leaf closed. Ragged?
      (if (i32.eq (local.get $leafDim) (i32.const -1))
        (then (local.set $leafDim (local.get $leafLength)))
        (else (if (i32.ne (local.get $leafDim) (local.get $leafLength)) (then (return (i32.const -1))))))
      ;; Close the arrays that end here, up to one that goes on with another array (or the member's end).
      (loop $close
        (local.set $depth (i32.sub (local.get $depth) (i32.const 1)))
        (if (i32.eq (local.get $depth) (i32.const -1))
          (then
            (i32.store offset=16 (i32.shl (local.get $leafDepth) (i32.const 2)) (local.get $leafDim))
            (i32.store (i32.const 0) (i32.shr_u (i32.sub (local.get $next) (i32.load (i32.const 8))) (i32.const 3)))
            (i32.store (i32.const 4) (i32.add (local.get $leafDepth) (i32.const 1)))
            (return (local.get $pos))))
        (local.set $slot (i32.shl (local.get $depth) (i32.const 2)))
        (local.set $length (i32.add (i32.load offset=144 (local.get $slot)) (i32.const 1)))
        (i32.store offset=144 (local.get $slot) (local.get $length))
        (if (i32.le_u (i32.load8_u (local.get $pos)) (i32.const 0x20))
          (then (local.set $pos (call $skipWhitespace (local.get $pos) (local.get $end)))))
        (local.set $c (i32.load8_u (local.get $pos)))
        (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
        (if (i32.eq (local.get $c) (i32.const 0x2c))
          (then
            (if (i32.le_u (i32.load8_u (local.get $pos)) (i32.const 0x20))
              (then (local.set $pos (call $skipWhitespace (local.get $pos) (local.get $end)))))
            ;; Between arrays, only another array (a number among arrays is refused).
            (br_if $open (i32.eq (i32.load8_u (local.get $pos)) (i32.const 0x5b)))
            (return (i32.const -1))))
        (if (i32.ne (local.get $c) (i32.const 0x5d)) (then (return (i32.const -1))))
        ;; This array closed too. Ragged?
        (if (i32.eq (i32.load offset=16 (local.get $slot)) (i32.const -1))
          (then (i32.store offset=16 (local.get $slot) (local.get $length)))
          (else (if (i32.ne (i32.load offset=16 (local.get $slot)) (local.get $length)) (then (return (i32.const -1))))))
        (br $close)))
    (unreachable))
)
