"""Research dump of the reference Inception-family models (docs/research/inception-family.md): module trees,
torch.fx graphs and fvcore conv+linear counts of torchvision inception_v3 and timm inception_v4,
inception_resnet_v2 and legacy_xception, no weights. Needs timm: python scripts/research/dump_reference_models.py MODEL (writes /tmp/family/MODEL.*)
"""
import json, sys, traceback, torch, torch.nn as nn, torch.fx
import torchvision, timm
from fvcore.nn import FlopCountAnalysis
torch.manual_seed(0)

def make(name):
    if name == 'inception_v3':
        return torchvision.models.inception_v3(weights=None, aux_logits=True, init_weights=False)
    return timm.create_model(name, pretrained=False)

def params(m):
    t = type(m)
    if isinstance(m, nn.Conv2d):
        return f"in={m.in_channels} out={m.out_channels} k={m.kernel_size} s={m.stride} p={m.padding} d={m.dilation} g={m.groups} bias={m.bias is not None} padding_mode={m.padding_mode}"
    if isinstance(m, nn.BatchNorm2d):
        return f"num_features={m.num_features} eps={m.eps} momentum={m.momentum} affine={m.affine} track_running_stats={m.track_running_stats}"
    if isinstance(m, (nn.MaxPool2d,)):
        return f"k={m.kernel_size} s={m.stride} p={m.padding} d={m.dilation} ceil_mode={m.ceil_mode}"
    if isinstance(m, nn.AvgPool2d):
        return f"k={m.kernel_size} s={m.stride} p={m.padding} ceil_mode={m.ceil_mode} count_include_pad={m.count_include_pad} divisor_override={m.divisor_override}"
    if isinstance(m, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
        return f"output_size={m.output_size}"
    if isinstance(m, nn.Linear):
        return f"in={m.in_features} out={m.out_features} bias={m.bias is not None}"
    if isinstance(m, nn.Dropout):
        return f"p={m.p} inplace={m.inplace}"
    if isinstance(m, nn.Flatten):
        return f"start_dim={m.start_dim} end_dim={m.end_dim}"
    if hasattr(m, 'inplace') and len(list(m.children())) == 0:
        return f"inplace={m.inplace}"
    extra = []
    for a in ('scale', 'no_relu', 'activate_first', 'flatten', 'pool_type', 'start_with_relu', 'grow_first', 'transform_input', 'aux_logits', 'drop_rate', 'p'):
        if hasattr(m, a) and not callable(getattr(m, a)):
            extra.append(f"{a}={getattr(m, a)!r}")
    try:
        er = m.extra_repr()
        if er: extra.append(f"extra_repr=({er})")
    except Exception: pass
    return ' '.join(extra)

def fmt(a):
    if isinstance(a, torch.fx.Node): return '%' + a.name
    if isinstance(a, (list, tuple)):
        s = ', '.join(fmt(x) for x in a)
        return ('[' + s + ']') if isinstance(a, list) else ('(' + s + (',' if len(a) == 1 else '') + ')')
    if isinstance(a, dict): return '{' + ', '.join(f'{k}={fmt(v)}' for k, v in a.items()) + '}'
    if callable(a): return getattr(a, '__module__', '') + '.' + getattr(a, '__name__', repr(a))
    return repr(a)

def tgt(n):
    if n.op in ('call_function',):
        return fmt(n.target)
    return str(n.target)

def trace_dump(model, mode):
    getattr(model, mode)()
    method = 'torch.fx.symbolic_trace'
    try:
        gm = torch.fx.symbolic_trace(model)
    except Exception as e:
        err = f"{type(e).__name__}: {e}"
        from timm.models._features_fx import symbolic_trace as tst
        gm = tst(model); method = f'timm.models._features_fx.symbolic_trace (plain fx failed: {err[:300]})'
    lines = [f"# trace method: {method}; mode={mode}; training={model.training}"]
    mods = dict(model.named_modules())
    for n in gm.graph.nodes:
        line = f"{n.name} = {n.op} {tgt(n)} args{fmt(n.args)} kwargs{fmt(n.kwargs)}"
        if n.op == 'call_module':
            line += f"   # {type(mods.get(n.target, gm.get_submodule(n.target))).__name__}"
        lines.append(line)
    return lines

def counts(model, name, sizes):
    out = {}
    model.eval()
    for (H, W) in sizes:
        key = f"3x{H}x{W}"
        rec = {}
        try:
            x = torch.randn(1, 3, H, W)
            shapes = {}
            hooks = []
            for cn, c in model.named_children():
                def h(mod, inp, o, cn=cn):
                    if isinstance(o, torch.Tensor): shapes[cn] = list(o.shape)
                    elif isinstance(o, (tuple, list)): shapes[cn] = [list(t.shape) for t in o if isinstance(t, torch.Tensor)]
                    else: shapes[cn] = repr(type(o))
                hooks.append(c.register_forward_hook(h))
            with torch.no_grad():
                y = model(x)
            for hk in hooks: hk.remove()
            rec['output_shape'] = list(y.shape) if isinstance(y, torch.Tensor) else repr(type(y))
            rec['child_output_shapes'] = shapes
            fca = FlopCountAnalysis(model, x).unsupported_ops_warnings(False).uncalled_modules_warnings(False)
            byop = {k: int(v) for k, v in fca.by_operator().items()}
            rec['by_operator_all'] = byop
            conv = byop.get('conv', 0)
            lin = sum(byop.get(k, 0) for k in ('addmm', 'linear', 'matmul', 'bmm', 'mm'))
            rec['conv_macs'] = conv; rec['linear_macs'] = lin; rec['conv_plus_linear_macs'] = conv + lin
            rec['fvcore_total_all_ops'] = int(fca.total())
            # restricted per-module: use by_module_and_operator
            bmo = fca.by_module_and_operator()
            def cl(d): return int(sum(v for k, v in d.items() if k in ('conv', 'addmm', 'linear', 'matmul', 'bmm', 'mm')))
            top = {}; second = {}
            for cn, _ in model.named_children():
                top[cn] = cl(bmo.get(cn, {}))
            for mn, d in bmo.items():
                if mn.count('.') == 1:
                    v = cl(d)
                    if v: second[mn] = v
            rec['per_top_level_conv_linear'] = top
            rec['per_second_level_conv_linear'] = second
            rec['sum_top_level'] = sum(top.values())
        except Exception as e:
            rec['error'] = f"{type(e).__name__}: {e}"
            rec['traceback_tail'] = traceback.format_exc()[-1500:]
        out[key] = rec
    return out

name = sys.argv[1]
model = make(name)
with open(f'/tmp/family/{name}.modules.txt', 'w') as f:
    for qn, m in model.named_modules():
        f.write(f"{qn or '<root>'}  {type(m).__name__}  {params(m)}\n")
lines = []
modes = ['eval', 'train'] if name == 'inception_v3' else ['eval']
for mode in modes:
    try:
        lines += trace_dump(model, mode)
    except Exception as e:
        lines.append(f"# trace failed in mode {mode}: {type(e).__name__}: {e}")
    lines.append('')
open(f'/tmp/family/{name}.graph.txt', 'w').write('\n'.join(lines) + '\n')
res = {'model': name}
tot = sum(p.numel() for p in model.parameters())
res['total_params'] = tot
if name == 'inception_v3':
    aux = sum(p.numel() for p in model.AuxLogits.parameters())
    res['aux_params'] = aux; res['params_without_aux'] = tot - aux
    res['note'] = 'counts computed in eval mode (AuxLogits not executed in eval)'
res['trainable_params'] = sum(p.numel() for p in model.parameters() if p.requires_grad)
res['buffers_numel'] = sum(b.numel() for b in model.buffers())
sizes = [(299, 299), (320, 320), (299, 331)]
if name == 'legacy_xception': sizes.append((224, 224))
res['counts'] = counts(model, name, sizes)
json.dump(res, open(f'/tmp/family/{name}.counts.json', 'w'), indent=1)
c = res['counts']['3x299x299']
print(name, tot, res.get('params_without_aux'), c.get('conv_plus_linear_macs'), c.get('error'))
