"""Compose / OneOf / SomeOf: probability semantics, naming, nested params, per-record draws."""

import numpy as np
import pytest
from sklearn.base import clone

from augment import AmplitudeScale, Compose, OneOf, SomeOf, TimeShift, TimeStretch
from augment.base import draw_gate, make_rngs
from augment.compose import snake_case
from shirtecg_common.errors import UserError

N = 4000  # records for the frequency checks (tiny signals: draws dominate)
X8 = np.ones((N, 8, 4), dtype=np.float32)


def _records(t, seed=0, n=N):
    return t.transform_batch(X8[:n], 500.0, make_rngs(seed, n))[1]


def _binomial_ok(count, n, prob):
    """Within 5 standard deviations of the expected count."""
    sd = np.sqrt(n * prob * (1 - prob))
    return abs(count - n * prob) <= 5 * sd + 1


def test_compose_probability_is_p_times_child_p():
    """P(child applied) = p_compose · p_child, drawn per record."""
    c = Compose([AmplitudeScale(p=0.5)], p=0.6)
    recs = _records(c)
    gate = sum(r["applied"] for r in recs)
    child = sum(r["applied"] and r["amplitude_scale"]["applied"] for r in recs)
    assert _binomial_ok(gate, N, 0.6)
    assert _binomial_ok(child, N, 0.3)
    assert all("amplitude_scale" not in r for r in recs if not r["applied"])


def test_one_of_chooses_by_weight_then_child_p():
    """OneOf picks exactly one child with probability w_k/Σw; the child keeps its own p."""
    o = OneOf([AmplitudeScale(p=1.0), TimeShift(p=0.5)], weights=[3, 1], p=0.8)
    recs = _records(o)
    chosen = [r.get("chosen") for r in recs]
    assert all(len(c) == 1 for c in chosen if c is not None)
    n_amp = sum(c == ["amplitude_scale"] for c in chosen)
    n_shift_applied = sum(r.get("time_shift", {}).get("applied", False) for r in recs)
    assert _binomial_ok(n_amp, N, 0.8 * 0.75)
    assert _binomial_ok(n_shift_applied, N, 0.8 * 0.25 * 0.5)


def test_some_of_counts_and_order():
    """SomeOf draws m uniformly from (min, max), distinct children, run in list order."""
    s = SomeOf([AmplitudeScale(p=1.0), TimeShift(p=1.0), TimeStretch(p=1.0)],
               num_transforms=(1, None))
    recs = _records(s, n=3000)
    counts = np.bincount([len(r["chosen"]) for r in recs], minlength=4)
    assert counts[0] == 0
    for m in (1, 2, 3):
        assert _binomial_ok(counts[m], 3000, 1 / 3)
    order = ["amplitude_scale", "time_shift", "time_stretch"]
    for r in recs:
        assert r["chosen"] == sorted(r["chosen"], key=order.index)
        assert [k for k in r if k in order] == r["chosen"]
    fixed = _records(SomeOf([AmplitudeScale(), TimeShift(), TimeStretch()], num_transforms=2),
                     n=200)
    assert all(len(r["chosen"]) == 2 for r in fixed)


def test_per_record_choices_independent_of_batch():
    """Record i's choices and output depend only on its own seed."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 8, 300)).astype(np.float32)
    s = SomeOf([AmplitudeScale(p=0.7), OneOf([TimeShift(p=1), TimeStretch(p=1)])],
               num_transforms=(0, 2), p=0.9)
    seeds = [5, 6, 7, 8, 9, 10]
    full, recs = s.transform_batch(x, 500.0, make_rngs(seeds, 6))
    part, recs_part = s.transform_batch(x[[4, 1]], 500.0, make_rngs([9, 6], 2))
    np.testing.assert_array_equal(full[4], part[0])
    np.testing.assert_array_equal(full[1], part[1])
    assert recs[4] == recs_part[0] and recs[1] == recs_part[1]


def test_step_names_unique_settable_and_nested_params():
    """Names derive from class names, repeat with _1/_2, pairs set names, step__param tunes."""
    c = Compose([TimeShift(), ("shift_b", TimeShift()), AmplitudeScale(), AmplitudeScale(),
                 OneOf([TimeStretch(), AmplitudeScale()])])
    names = [n for n, _ in c.named_transforms]
    assert names == ["time_shift", "shift_b", "amplitude_scale_1", "amplitude_scale_2", "one_of"]
    assert snake_case("AddSNRNoise") == "add_snr_noise"
    c.set_params(shift_b__max_shift_s=0.25, one_of__time_stretch__max_stretch_pct=8.0, p=0.9)
    params = c.get_params()
    assert params["shift_b__max_shift_s"] == 0.25
    assert params["one_of__time_stretch__max_stretch_pct"] == 8.0
    assert params["p"] == 0.9
    c.set_params(time_shift=TimeStretch())  # replace a step by name, the name stays
    assert dict(c.named_transforms)["time_shift"].__class__ is TimeStretch
    assert clone(c).get_params(deep=False).keys() == c.get_params(deep=False).keys()
    with pytest.raises(UserError, match="invalid parameter 'nope__p'.*time_shift"):
        c.set_params(nope__p=1)
    with pytest.raises(UserError, match="unique"):
        Compose([("a", TimeShift()), ("a", TimeStretch())]).named_transforms
    with pytest.raises(UserError, match="invalid step name"):
        Compose([("bad__name", TimeShift())]).named_transforms
    with pytest.raises(TypeError, match="transforms\\[0\\]"):
        Compose(["TimeShift"]).named_transforms


def test_invalid_weights_and_counts_raise():
    """Bad OneOf weights and SomeOf counts are named in the error."""
    x = X8[:2]
    with pytest.raises(ValueError, match="weights"):
        OneOf([TimeShift(), TimeStretch()], weights=[1]).transform_batch(x, 500.0, make_rngs(0, 2))
    with pytest.raises(ValueError, match="weights"):
        OneOf([TimeShift(), TimeStretch()], weights=[-1, 2]).transform_batch(
            x, 500.0, make_rngs(0, 2))
    with pytest.raises(ValueError, match="num_transforms"):
        SomeOf([TimeShift()], num_transforms=3).transform_batch(x, 500.0, make_rngs(0, 2))
    with pytest.raises(ValueError, match="p must be"):
        Compose([TimeShift()], p=2).transform_batch(x, 500.0, make_rngs(0, 2))


def test_composition_does_not_modify_its_input():
    """Children may work in place on private copies only."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(5, 8, 200)).astype(np.float32)
    before = x.copy()
    for comp in (Compose([AmplitudeScale(p=1)], p=0.5), OneOf([AmplitudeScale(p=1)]),
                 SomeOf([AmplitudeScale(p=1), TimeShift(p=1)], num_transforms=2)):
        out, _ = comp.transform_batch(x, 500.0, make_rngs(3, 5))
        np.testing.assert_array_equal(x, before)
        assert not np.array_equal(out, before)


def test_fused_lead_matrices_match_step_by_step():
    """A run of linear steps (fused into one matrix per record) draws and records exactly what
    running the steps one by one does, and gives the same signal to float32 rounding."""
    from augment import ElectrodeDisplacement, HeartAxisRotation, LeadVectorRotation
    from augment.transforms._linear import is_linear

    steps = [ElectrodeDisplacement(p=0.7), SomeOf([LeadVectorRotation(p=1.0),
                                                    HeartAxisRotation(p=0.5)], (1, 2)),
             OneOf([AmplitudeScale(p=1.0)], p=0.5)]
    fused = Compose(steps)
    assert fused.is_linear and all(is_linear(s) for s in steps)
    rng = np.random.default_rng(2)
    x = rng.normal(size=(6, 8, 500)).astype(np.float32)
    out, recs = fused.transform_batch(x, 500.0, make_rngs(list(range(6)), 6))
    ref, ref_recs = x, [{"applied": True} for _ in range(6)]
    rngs = make_rngs(list(range(6)), 6)  # (the Compose gate, p=1, draws nothing)
    for name, step in fused.named_transforms:
        # step by step through the non-fused code path of each step
        if isinstance(step, (SomeOf, OneOf)):
            ref, r = _unfused(step, ref, rngs)
        else:
            ref, r = step.transform_batch(ref, 500.0, rngs)
        for a, b in zip(ref_recs, r):
            a[name] = b
    assert recs == ref_recs
    np.testing.assert_allclose(out, ref, atol=1e-5)


def _unfused(comp, x, rngs):
    """Run a composition through its generic (gather/apply/scatter) path."""
    comp._check_p()
    applied = draw_gate(rngs, comp.p)
    records = [{"applied": bool(a)} for a in applied]
    idx = np.flatnonzero(applied)
    out, sub, chosen = comp._run(x[idx], 500.0, [rngs[i] for i in idx], owned=True)
    names = [n for n, _ in comp.named_transforms]
    for j, i in enumerate(idx):
        records[i]["chosen"] = [names[k] for k in sorted(chosen[j])]
        records[i].update(sub[j])
    full = x.copy()
    full[idx] = out
    return full, records


@pytest.mark.parametrize("case", ["shift-stretch-shift", "second stretch", "roll only"])
def test_fused_time_maps_and_matrices_match_step_by_step(case):
    """Shifts, a stretch and lead matrices drawn first and applied in one pass per record
    (a Pipeline's pass reading the 12-lead input) give the draws, records and signal of
    running the steps one by one; a second stretch forces a pass in between."""
    from augment import ElectrodeDisplacement, Pipeline, leads

    steps = [TimeShift(p=0.7, max_shift_s=0.3), TimeStretch(p=0.7),
             TimeShift(p=0.5, mode="edge", max_shift_s=0.2), ElectrodeDisplacement(p=0.8),
             AmplitudeScale(p=0.5)]
    if case == "second stretch":
        steps.insert(3, TimeStretch(p=0.6, direction="faster"))
    if case == "roll only":  # every record: a roll and a matrix (or a roll alone, or none)
        steps = [TimeShift(p=0.8), AmplitudeScale(p=0.7)]
    rng = np.random.default_rng(4)
    x12 = leads.derive(rng.normal(size=(16, 8, 600)).astype(np.float32))
    seeds = list(range(10, 26))
    pipe = Pipeline([clone(s) for s in steps])
    out = pipe(x12, 500.0, random_state=seeds)
    ref, rngs = leads.independent(x12), make_rngs(seeds, 16)
    ref_records = [{} for _ in seeds]
    for (name, _), step in zip(pipe.named_transforms, steps):
        ref, recs = step.transform_batch(ref, 500.0, rngs)
        for rec, r in zip(ref_records, recs):
            rec[name] = r
    assert pipe.last_parameters == ref_records
    assert any(r[pipe.named_transforms[-1][0]]["applied"] for r in ref_records)
    np.testing.assert_allclose(out, leads.derive(ref), atol=2e-5)
    # the same steps inside a Compose on independent leads (fused in place, input kept)
    x8 = leads.independent(x12)
    before = x8.copy()
    out8, _ = Compose([clone(s) for s in steps]).transform_batch(x8, 500.0,
                                                                 make_rngs(seeds, 16))
    np.testing.assert_array_equal(x8, before)
    ref, rngs = leads.independent(x12), make_rngs(seeds, 16)  # the p=1 gate draws nothing
    for step in steps:
        ref, _ = step.transform_batch(ref, 500.0, rngs)
    np.testing.assert_allclose(out8, ref, atol=2e-5)
