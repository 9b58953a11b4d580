# Hand assembler of the two Pillow-bicubic passes (src/core/features/resize-wasm.ts embeds
# its output): prints the module (memory, hpass, vpass) as base64. Python 3, no packages.
#
# hpass(src, w, h, outW, bounds, k, ks, dst)   (i32; src/dst byte addresses, bounds/k i32 arrays)
#   for y < h, xx < outW: acc = i32x4(half) + sum over x < bounds[2xx+1] of
#     widen(load32(src + (y·w + bounds[2xx] + x)·3)) · k[xx·ks + x]   (lanes R G B, 4th unused)
#   then (acc >> 22) clamped to 0…255 and the low 3 bytes stored at dst + (y·outW + xx)·3
#   (a 4-byte store: the 4th byte is overwritten by the next pixel; 1 spare byte at the end).
def uleb(n):
    out = []
    while True:
        b = n & 0x7f; n >>= 7
        if n: out.append(b | 0x80)
        else: out.append(b); return out
def sleb(n):
    out = []
    while True:
        b = n & 0x7f; n >>= 7
        if (n == 0 and not (b & 0x40)) or (n == -1 and (b & 0x40)): out.append(b); return out
        out.append(b | 0x80)
names = ['src', 'w', 'h', 'outW', 'bounds', 'k', 'ks', 'dst',            # params
         'y', 'xx', 'x', 'xmax', 'p', 'kp', 'o', 'rowIn', 'bp',           # i32 locals
         'acc']                                                          # v128
P = {n: i for i, n in enumerate(names)}
def func_body(code, v128_locals):
    """A code-section entry: 9 i32 locals and v128_locals v128 ones, then the code, sized."""
    body = [*uleb(2), *uleb(9), 0x7F, *uleb(v128_locals), 0x7B] + code
    return [*uleb(len(body)), *body]

code = []
def g(n): code.extend([0x20, *uleb(P[n])])
def s(n): code.extend([0x21, *uleb(P[n])])
def t(n): code.extend([0x22, *uleb(P[n])])
def c(v): code.extend([0x41, *sleb(v)])
def op(*b): code.extend(b)
def simd(o, *imm): code.extend([0xFD, *uleb(o), *imm])
ADD, SUB, MUL, LT_U, GE_U = 0x6A, 0x6B, 0x6C, 0x49, 0x4F
def load(align_log2=2, off=0): op(0x28, align_log2, *uleb(off))   # i32.load
# o = dst ; y = 0
g('dst'); s('o')
c(0); s('y')
op(0x02, 0x40)                                 # block $end
g('y'); g('h'); op(GE_U); op(0x0D, 0)
op(0x03, 0x40)                                 # loop $rows
# rowIn = src + y*w*3
g('src'); g('y'); g('w'); op(MUL); c(3); op(MUL); op(ADD); s('rowIn')
c(0); s('xx')
g('bounds'); s('bp')
g('k'); s('kp')
op(0x03, 0x40)                                 # loop $cols
# p = rowIn + bounds[2xx]*3 ; xmax = bounds[2xx+1]
g('rowIn'); g('bp'); load(); c(3); op(MUL); op(ADD); s('p')
g('bp'); load(2, 4); s('xmax')
c(1 << 21); simd(0x11); s('acc')              # i32x4.splat(half)
c(0); s('x')
op(0x02, 0x40)                                 # block $noTaps
g('xmax'); op(0x45); op(0x0D, 0)               # i32.eqz → br_if
op(0x03, 0x40)                                 # loop $taps
g('acc')
g('p'); simd(0x5C, 0, 0)                       # v128.load32_zero align 1 offset 0
simd(0x89)                                     # i16x8.extend_low_i8x16_u
simd(0xA9)                                     # i32x4.extend_low_i16x8_u
g('kp'); g('x'); c(4); op(MUL); op(ADD); load(); simd(0x11)   # splat k[kp + x]
simd(0xB5)                                     # i32x4.mul
simd(0xAE)                                     # i32x4.add
s('acc')
g('p'); c(3); op(ADD); s('p')
g('x'); c(1); op(ADD); t('x'); g('xmax'); op(LT_U); op(0x0D, 0)
op(0x0B)                                       # end taps
op(0x0B)                                       # end noTaps
# v = clamp(acc >> 22, 0, 255) ; narrow to bytes ; store 4 bytes (low 3 used)
g('o')
g('acc'); c(22); simd(0xAC)                    # i32x4.shr_s
c(0); simd(0x11); simd(0xB8)                   # i32x4.max_s(…, 0)
c(255); simd(0x11); simd(0xB6)                 # i32x4.min_s(…, 255)
op(0xFD, 0x0C, *([0] * 16))                    # v128.const 0
simd(0x85)                                     # i16x8.narrow_i32x4_s(v, 0)
op(0xFD, 0x0C, *([0] * 16))
simd(0x66)                                     # i8x16.narrow_i16x8_u(…, 0)
simd(0x1B, 0)                                  # i32x4.extract_lane 0
op(0x36, 0, 0)                                 # i32.store align 1 offset 0
g('o'); c(3); op(ADD); s('o')
g('bp'); c(8); op(ADD); s('bp')
g('kp'); g('ks'); c(4); op(MUL); op(ADD); s('kp')
g('xx'); c(1); op(ADD); t('xx'); g('outW'); op(LT_U); op(0x0D, 0)
op(0x0B)                                       # end cols
g('y'); c(1); op(ADD); t('y'); g('h'); op(LT_U); op(0x0D, 0)
op(0x0B)                                       # end rows
op(0x0B)                                       # end block
op(0x0B)                                       # end func
hfunc = func_body(code, v128_locals=1)

# vpass(src, rowLen, h, outH, bounds, k, ks, dst)   (i32; h unused: the signature is hpass's)
#   for yy < outH, x < rowLen step 16: four i32x4 accumulators (bytes x … x+15) =
#     i32x4(half) + sum over y < bounds[2yy+1] of widen(load128(src + (bounds[2yy] + y)·rowLen + x)) · k[yy·ks + y]
#   (the scalar pass's additions, per byte in the same order), then >> 22, narrowed with
#   saturation (i32 → i16 signed, i16 → u8: the clamp to 0…255) and stored as 16 bytes at
#   dst + yy·rowLen + x. Past a row's end the 16-byte loads read the next row (or 16 spare
#   bytes after src) and the stores write the next row's start before that row is written
#   (16 spare bytes after dst).
names = ['src', 'rowLen', 'h', 'outH', 'bounds', 'k', 'ks', 'dst',     # params
         'yy', 'x', 'y', 'ymax', 'p', 'kp', 'rowSrc', 'rowOut', 'kb',   # i32 locals
         'a0', 'a1', 'a2', 'a3', 'v', 'kv']                           # v128
P = {n: i for i, n in enumerate(names)}
code = []
def mac(acc):                                  # acc += (i32x4 on the stack) · kv
    g('kv'); simd(0xB5); g(acc); simd(0xAE); s(acc)
c(0); s('yy')
op(0x02, 0x40)                                 # block $end
g('yy'); g('outH'); op(GE_U); op(0x0D, 0)
op(0x03, 0x40)                                 # loop $rows
# rowSrc = src + bounds[2yy]*rowLen ; ymax = bounds[2yy+1] ; kb = k + yy*ks*4 ; rowOut = dst + yy*rowLen
g('src'); g('bounds'); g('yy'); c(8); op(MUL); op(ADD); load(); g('rowLen'); op(MUL); op(ADD); s('rowSrc')
g('bounds'); g('yy'); c(8); op(MUL); op(ADD); load(2, 4); s('ymax')
g('k'); g('yy'); g('ks'); op(MUL); c(4); op(MUL); op(ADD); s('kb')
g('dst'); g('yy'); g('rowLen'); op(MUL); op(ADD); s('rowOut')
c(0); s('x')
op(0x03, 0x40)                                 # loop $cols (rowLen ≥ 1)
c(1 << 21); simd(0x11); t('a0'); t('a1'); t('a2'); s('a3')   # splat(half) ×4
g('rowSrc'); g('x'); op(ADD); s('p')
g('kb'); s('kp')
c(0); s('y')
op(0x02, 0x40)                                 # block $noTaps
g('ymax'); op(0x45); op(0x0D, 0)
op(0x03, 0x40)                                 # loop $taps
g('kp'); load(); simd(0x11); s('kv')          # kv = splat(k[kb + y])
g('p'); simd(0x00, 0, 0); s('v')              # v128.load align 1
g('v'); simd(0x89); simd(0xA9); mac('a0')      # bytes 0–3: u8 → u16 low → u32 low
g('v'); simd(0x89); simd(0xAA); mac('a1')      # 4–7
g('v'); simd(0x8A); simd(0xA9); mac('a2')      # 8–11 (u16 high)
g('v'); simd(0x8A); simd(0xAA); mac('a3')      # 12–15
g('p'); g('rowLen'); op(ADD); s('p')
g('kp'); c(4); op(ADD); s('kp')
g('y'); c(1); op(ADD); t('y'); g('ymax'); op(LT_U); op(0x0D, 0)
op(0x0B)                                       # end taps
op(0x0B)                                       # end noTaps
g('rowOut'); g('x'); op(ADD)                   # store address
g('a0'); c(22); simd(0xAC); g('a1'); c(22); simd(0xAC); simd(0x85)   # i16x8.narrow_i32x4_s
g('a2'); c(22); simd(0xAC); g('a3'); c(22); simd(0xAC); simd(0x85)
simd(0x66)                                     # i8x16.narrow_i16x8_u
simd(0x0B, 0, 0)                               # v128.store align 1
g('x'); c(16); op(ADD); t('x'); g('rowLen'); op(LT_U); op(0x0D, 0)
op(0x0B)                                       # end cols
g('yy'); c(1); op(ADD); t('yy'); g('outH'); op(LT_U); op(0x0D, 0)
op(0x0B)                                       # end rows
op(0x0B)                                       # end block
op(0x0B)                                       # end func
vfunc = func_body(code, v128_locals=6)

def section(id, payload): return [id, *uleb(len(payload)), *payload]
def name(sn): b = list(sn.encode()); return [*uleb(len(b)), *b]
mod = [0x00, 0x61, 0x73, 0x6D, 0x01, 0, 0, 0]
mod += section(1, [1, 0x60, 8, *([0x7F] * 8), 0])
mod += section(3, [2, 0, 0])
mod += section(5, [1, 0x00, 1])
mod += section(7, [3, *name('memory'), 2, 0, *name('hpass'), 0, 0, *name('vpass'), 0, 1])
mod += section(10, [2, *hfunc, *vfunc])
import base64
print(base64.b64encode(bytes(mod)).decode())
