# Hand assembler of the resampler's FIR kernel (src/core/media/resample-wasm.ts embeds its
# output): prints the module as base64. Python 3, no packages.
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
# params: 0 bank, 1 stride, 2 x, 3 out, 4 count, 5 phase, 6 dBase, 7 dPhase, 8 L
# locals i32: 9 end, 10 pb, 11 px, 12 pe, 13 rowBytes ; v128: 14 acc0, 15 acc1
P = dict(bank=0, stride=1, x=2, out=3, count=4, phase=5, dBase=6, dPhase=7, L=8, end=9, pb=10, px=11, pe=12, rowBytes=13, acc0=14, acc1=15)
code = []
def g(n): code.extend([0x20, *uleb(P[n])])
def s(n): code.extend([0x21, *uleb(P[n])])
def t(n): code.extend([0x22, *uleb(P[n])])
def c(v): code.extend([0x41, *sleb(v)])
def op(*b): code.extend(b)
def simd(o, *imm): code.extend([0xFD, *uleb(o), *imm])
I32_ADD, I32_SUB, I32_MUL, I32_GE_U, I32_LT_U = 0x6A, 0x6B, 0x6C, 0x4F, 0x49
def v128load(off): simd(0x00, 4, *uleb(off))   # align 2^4, offset
def f32x4_add(): simd(0xE4)
def f32x4_mul(): simd(0xE6)
def lane(i): simd(0x1F, i)
# rowBytes = stride*4 ; end = out + count*4
g('stride'); c(4); op(I32_MUL); s('rowBytes')
g('out'); g('count'); c(4); op(I32_MUL); op(I32_ADD); s('end')
op(0x02, 0x40)  # block $done
g('out'); g('end'); op(I32_GE_U); op(0x0D, 0)   # br_if $done
op(0x03, 0x40)  # loop $outer
g('bank'); g('phase'); g('rowBytes'); op(I32_MUL); op(I32_ADD); s('pb')
g('pb'); g('rowBytes'); op(I32_ADD); s('pe')
g('x'); s('px')
simd(0x0C, *([0] * 16)); s('acc0')
simd(0x0C, *([0] * 16)); s('acc1')
op(0x03, 0x40)  # loop $inner
g('acc0'); g('pb'); v128load(0); g('px'); v128load(0); f32x4_mul(); f32x4_add(); s('acc0')
g('acc1'); g('pb'); v128load(16); g('px'); v128load(16); f32x4_mul(); f32x4_add(); s('acc1')
g('px'); c(32); op(I32_ADD); s('px')
g('pb'); c(32); op(I32_ADD); t('pb'); g('pe'); op(I32_LT_U); op(0x0D, 0)  # br_if $inner
op(0x0B)  # end inner
# out[...] = ((a0+a1) lanes summed: (l0 + l1) + (l2 + l3))
g('out')
g('acc0'); g('acc1'); f32x4_add(); t('acc0')
lane(0); g('acc0'); lane(1); op(0x92)
g('acc0'); lane(2); g('acc0'); lane(3); op(0x92)
op(0x92)
op(0x38, 2, 0)  # f32.store align 4 offset 0
# x += dBase*4 ; phase += dPhase ; if phase >= L { phase -= L; x += 4 }
g('x'); g('dBase'); c(4); op(I32_MUL); op(I32_ADD); s('x')
g('phase'); g('dPhase'); op(I32_ADD); t('phase'); g('L'); op(I32_GE_U)
op(0x04, 0x40)
g('phase'); g('L'); op(I32_SUB); s('phase')
g('x'); c(4); op(I32_ADD); s('x')
op(0x0B)  # end if
g('out'); c(4); op(I32_ADD); t('out'); g('end'); op(I32_LT_U); op(0x0D, 0)  # br_if $outer
op(0x0B)  # end outer
op(0x0B)  # end block
op(0x0B)  # end func
locals = [*uleb(2), *uleb(5), 0x7F, *uleb(2), 0x7B]
body = locals + code
func = [*uleb(len(body)), *body]
def section(id, payload): return [id, *uleb(len(payload)), *payload]
def name(sn): b = list(sn.encode()); return [*uleb(len(b)), *b]
mod = [0x00, 0x61, 0x73, 0x6D, 0x01, 0, 0, 0]
mod += section(1, [1, 0x60, 9, *([0x7F] * 9), 0])
mod += section(3, [1, 0])
mod += section(5, [1, 0x00, 1])
mod += section(7, [2, *name('memory'), 2, 0, *name('fir'), 0, 0])
mod += section(10, [1, *func])
import base64
print(base64.b64encode(bytes(mod)).decode())
