"""Quality guard: the matcher's figures on the held-out statements (and on the shared dev set when
it is there) must not fall below their guarded levels. A catalog edit that trades them away fails
here, with the figures in the message.

The held-out set (tests/matching/heldout.jsonl, 5012 statements) is written by the team, never
copied from dev; the people, quotes and figures in it are invented. Each round was scored as unseen before any fix it prompted:
- rounds 1-5 (169) prompted the rules and cues of the first catalog;
- round 6 (25 longer statements in everyday wording): top P 0.658 R 0.543, actions P 0.571 R 0.222;
- round 7 (48 statements in the genres of the scraped sources, a quarter of them hard negatives),
  written blind while the catalog was enriched: before the enrichment top P 0.777 R 0.889,
  actions P 0.800 R 0.778; after it (still unseen by those who edited) top P 0.816 R 0.889,
  actions P 0.763 R 0.806;
- round 8 (45 statements, same brief), scored once after all of that: top P 0.807 R 0.944, actions
  P 0.621 R 0.857 (the stop-8 matcher: top P 0.818 R 0.887, actions P 0.581 R 0.857). It then
  prompted three cue fixes for ambiguous words ("à la veille de", "comisiones", ransomware attacks).
On fresh text the matcher finds what it should; precision on passing mentions is its weak side.
A later rule (one bare mention of an action in a longer text is in passing) moved the whole set's
actions from P 0.866 R 0.881 to P 0.922 R 0.839.
- round 9 (45 statements, same brief), scored once with the final catalog and rules (rules-2.3):
  top P 0.806 R 0.926, actions P 0.739 R 0.850 (the stop-8 matcher: top P 0.779 R 0.914, actions
  P 0.621 R 0.900). It has prompted no change.
- rounds 10 and 11 (60 statements each, EN/FR/ES, about 25 hard negatives each, written blind),
  scored first with rules-2.3: round 10 top P 0.704 R 0.960, actions P 0.759 R 0.932; round 11
  top P 0.676 R 0.921, actions P 0.733 R 0.805. They prompted rules-2.4 (frames, administrative
  texts, look-alike vetoes): round 10 top P 0.772 R 0.960, round 11 top P 0.736 R 0.921.
  A second writer labelled both rounds again without seeing the labels: agreement micro F1 0.949.
- round 12 (60 statements, same brief), scored once with rules-2.4: top P 0.746 R 0.854, actions
  P 0.698 R 0.732 (rules-2.3: top P 0.688 R 0.854, actions P 0.682 R 0.732).
- Four team members then went over the false references of all 512 (rules-2.5: 39 cue and negative
  changes, a rights frame for c2a.5); round 13 (60 statements, same brief, written blind meanwhile),
  scored once: rules-2.5 top P 0.758 R 0.929, actions P 0.667 R 0.833 (rules-2.4: 0.730 / 0.939,
  0.667 / 0.833; rules-2.3: 0.681 / 0.939, 0.667 / 0.833). It prompted one change (c2a.7 framed).
- round 14 (60 statements, same brief, written blind), scored once with rules-2.5 (c2a.7 framed):
  top P 0.833 R 0.857, actions P 0.714 R 0.854 (rules-2.4: 0.786 / 0.876, 0.700 / 0.854;
  rules-2.3: 0.750 / 0.886, 0.700 / 0.854). It prompted rules-2.6 (an action named once as one item
  of a list is in passing): actions P 0.739 R 0.829 on it, dev actions P 0.955 -> 1.000.
- Four team members then went over the false action references of all 632 (rules-2.7); round 15
  (60 statements, same brief, written blind meanwhile), scored once: rules-2.7 top P 0.798
  R 0.893, actions P 0.900 R 0.844 (rules-2.6: 0.773 / 0.893, 0.794 / 0.844; rules-2.3: 0.652 /
  0.893, 0.778 / 0.875).
- Three team members went over the top-level false references of all 692 (rules-2.8); round 16
  (60 statements, same brief, written blind meanwhile), scored once: rules-2.8 top P 0.798
  R 0.908, actions P 0.933 R 0.778 (rules-2.7: 0.774 / 0.908, 0.933 / 0.778; rules-2.6: 0.760 /
  0.908, 0.800 / 0.778; rules-2.3: 0.658 / 0.908, 0.778 / 0.778). It has prompted no change.
- A fourth pass over all 752 (rules-2.9); round 17 (60 statements, same brief, written blind
  meanwhile), scored once: rules-2.9 top P 0.808 R 0.875, actions P 0.742 R 0.742 (rules-2.8:
  0.811 / 0.896, 0.742 / 0.742; rules-2.7: 0.791 / 0.906; rules-2.3: 0.652 / 0.917, 0.639 /
  0.742). The pass's hr75.6 change lost two true references there and removed none, so it was
  reverted (rules-2.10, which gives rules-2.8's references on round 17 and on dev).
- rules-2.11 (a side theme is dropped: under half the strongest theme, in under a quarter of the
  sentences, not in the title, none of its actions referenced) was chosen on the 812 before rounds
  18 to 21 (60 statements each, same brief, written blind) were scored once. On rounds 18-19 it
  looked right (top P 0.874 R 0.772 against rules-2.10's 0.852 / 0.782), on rounds 20-21 it was
  not (0.764 / 0.826 against 0.765 / 0.851): over the 240 it removed six false references and six
  true ones, so it was reverted (rules-2.12, rules-2.10's references). Rounds 18-21 with
  rules-2.12: top P 0.810 R 0.812, actions P 0.745 R 0.784 (rules-2.3: 0.748 / 0.834, 0.691 /
  0.876). A second writer labelled rounds 18-19 again without seeing the labels: agreement micro
  F1 0.973 (actions 0.943); against the union of both writers' labels, the matcher's action
  precision there is 0.800. Rounds 20-21 likewise: agreement 0.967 (actions 0.948).
- rounds 22 and 23 (60 statements each, same brief), scored once with rules-2.12: top P 0.846
  R 0.861, actions P 0.593 R 0.914 (rules-2.3: 0.799 / 0.861, 0.532 / 0.943). Rounds 18-23 (360):
  top P 0.821 R 0.827, actions P 0.692 R 0.818 (rules-2.3: 0.764 / 0.842, 0.638 / 0.894).
- Two team members then went over the false action references of all 1172 (seven cue changes),
  and a matcher change made a part of a proximity cue's hit count once (rules-2.13); rounds 24 and
  25 (60 statements each, same brief, written blind meanwhile), scored once: rules-2.13 top
  P 0.824 R 0.838, actions P 0.659 R 0.853 (rules-2.12: 0.823 / 0.832, 0.630 / 0.853; rules-2.3:
  0.760 / 0.844, 0.558 / 0.853). A second writer's labels agree at micro F1 0.969 (actions 0.917).
- rules-2.14: a domain, message or priority named once, bare, as one item of a list is in passing,
  and two team members went over the top-level false references of all 1292 (twelve cue and
  theme changes); rounds 26 and 27 (60 statements each, same brief, written blind meanwhile),
  scored once: rules-2.14 top P 0.799 R 0.886, actions P 0.655 R 0.927 (rules-2.13: 0.784 /
  0.891, 0.655 / 0.927; rules-2.3: 0.733 / 0.909, 0.594 / 0.927).
- rounds 28 and 29 (60 statements each, same brief), scored once with rules-2.14: top P 0.901
  R 0.787, actions P 0.667 R 0.882 (rules-2.3: 0.793 / 0.817, 0.556 / 0.882). A candidate rule (a
  theme in one sentence of a long text is in passing: on the 1412, 11 false references removed
  for 4 true) removed one false and one true reference there, and was not adopted.
- rules-2.15: a second pass over the false action references of all 1532 (eleven cue changes;
  on them 23 false references removed, 6 true lost; dev unchanged); rounds 30 and 31 (60
  statements each, same brief, written blind meanwhile), scored once: rules-2.15 and rules-2.14
  alike, top P 0.834 R 0.793, actions P 0.696 R 0.865 (rules-2.3: 0.772 / 0.830, 0.623 / 0.892).
  rules-2.14 over rounds 26-31 (360, all unseen when scored): top P 0.843 R 0.821, actions P 0.671
  R 0.893.
- rules-2.16 (derivations Snowball merges keep a stem of their own, noun forms of attacks on
  journalists in FR/ES, the French "siège", career diplomats' biographies, "news in brief"
  digests, notices of a new director), built on the 1652; rounds 32-35 (60 statements each:
  32-33 the same brief, 34-35 a brief asking for the ordinary daily mix rather than adversarial
  near-misses), written meanwhile, scored once: top P 0.748 R 0.904, actions P 0.750 R 0.773
  (rules-2.15: 0.743 / 0.904, 0.750 / 0.773; rules-2.3: 0.714 / 0.926, 0.687 / 0.789). They
  joined the set (1892).
- rules-2.17 (a civic frame for civic space, the French and Spanish adjective "civil" apart from
  the civilians, frames for the autonomous-weapons ban and UN gender parity), built on the 1892;
  rounds 36-39 (60 statements each; 36-37 the same brief, 38-39 the daily mix; the brief's
  examples of hard negatives changed so that none of the kinds fixed above was suggested),
  written meanwhile, scored once: top P 0.801 R 0.915, actions P 0.760 R 0.807 (rules-2.15:
  0.791 / 0.915, 0.760 / 0.807; rules-2.3: 0.713 / 0.927, 0.669 / 0.833). They joined the set
  (2132).
- rules-2.18 (a bare veto weak, a frame for the abolition of the death penalty, "tax refugees"
  vetoed, a provisional agenda administrative, transitional justice as support of the justice
  theme), built on the 2132; rounds 40-43 (same two briefs, new hard-negative examples), written
  meanwhile, scored once: top P 0.804 R 0.928, actions P 0.754 R 0.782 (rules-2.15: 0.785 /
  0.925, 0.754 / 0.782; rules-2.3: 0.730 / 0.933, 0.652 / 0.836). They joined the set (2372).
- rules-2.19: a side topic (a domain, message or priority under half the evidence of the
  strongest commitment it is not related to) is dropped; related commitments (the catalog's
  "related", either way, with their actions) do not push each other out. Found by asking why a
  uniformly stricter dominance (0.5) cost real dev references: they were related topics (the
  atrocity priority next to the crisis domain). On the 2372: top P 0.866 -> 0.890, R 0.887 ->
  0.861; dev top P 0.962 -> 0.974, recall unchanged. With it, the UN-system frame for the twelve
  actions whose subject is the UN's own work. Rounds 44-47 (same two briefs, new hard-negative
  examples), written meanwhile, scored once: top P 0.784 R 0.892, actions P 0.739 R 0.788
  (rules-2.18: 0.752 / 0.924, 0.728 / 0.798; rules-2.15: 0.736 / 0.924; rules-2.3: 0.677 /
  0.935, 0.588 / 0.837). They joined the set (2612).
- rules-2.20: frames for the crisis domain and prevention message (armed violence and the people
  it strikes), the youth message (voice, rights, decisions, climate) and the refugees-and-migrants
  priority (protection, asylum, borders), built on the 2612. Rounds 48-51 (same two briefs, new
  hard-negative examples), written meanwhile, scored once: top P 0.769 R 0.911, actions P 0.748
  R 0.766 (rules-2.19 the same; rules-2.18: 0.729 / 0.919, 0.742 / 0.766; rules-2.15: 0.720 /
  0.919; rules-2.3: 0.658 / 0.929, 0.637 / 0.806). They joined the set (2852).
- rules-2.21: a frame for the technology message hr75.6 (rights, harms, rules, oversight, or the
  UN bodies that take technology up), built on the 2852. rules-2.22: the side-topic share 0.6
  instead of 0.5, to be kept only if top-level F1 on the next rounds held within 0.005 with
  precision higher. Rounds 52-55 (same two briefs, new hard-negative examples), written
  meanwhile, scored once: rules-2.22 top P 0.878 R 0.873, rules-2.21 0.863 / 0.881 (so 0.6
  stays), actions P 0.786 R 0.780 (rules-2.20: 0.859 / 0.881; rules-2.15: 0.814 / 0.902, 0.767 /
  0.780; rules-2.3: 0.747 / 0.925, 0.658 / 0.831). They joined the set (3092).
- rules-2.23 (a bare "Article 99" weak, currency parity vetoed, the data-protection action
  framed by rights), built on the 3092. Rounds 56-59 (same two briefs, new hard-negative
  examples), written meanwhile, scored once: top P 0.833 R 0.898, actions P 0.802 R 0.794
  (rules-2.22 the same; rules-2.15: 0.739 / 0.917, 0.794 / 0.794; rules-2.3: 0.690 / 0.925,
  0.644 / 0.833); one false family reference, the first (a novel titled like the Call to
  Action). They joined the set (3332). Over rounds 32-59 (1680 statements, each group scored
  once with the release of its time): top P 0.800 R 0.903, actions P 0.762 R 0.784.
- Rounds 60-63 (same two briefs, new hard-negative examples), scored once with rules-2.23: top P
  0.824 R 0.839, actions P 0.750 R 0.676 (action recall under the target on this group: 0.580
  on rounds 60-61), families 0.909 / 0.882 (rules-2.15: 0.739 / 0.899; rules-2.3: 0.691 /
  0.912). Three of the four false family references were the Call to Action's subtitle naming
  something else (a memoir, a vacuum-cleaner test, a marketing tip), as in round 57: rules-2.24
  gives the family the rights frame (dev unchanged). They joined the set (3572). Over rounds
  32-63 (1920 statements, each group scored once): top P 0.803 R 0.895, actions P 0.761 R 0.771.
- Rounds 64-67 (same two briefs, new hard-negative examples), scored once with rules-2.24: top P
  0.861 R 0.846, actions P 0.757 R 0.750, families 0.938 / 0.857 (rules-2.15: 0.762 / 0.881;
  rules-2.3: 0.690 / 0.878). Both false family references were "HR75" naming a company's
  human-resources programme: rules-2.25 gives the hr75 family the rights frame (dev unchanged).
  They joined the set (3812). Over rounds 32-67 (2160 statements, each group scored once): top
  P 0.809 R 0.889, actions P 0.760 R 0.768, families 0.978 / 0.901.
- rules-2.26: a sports story references nothing unless it speaks of rights (on the 3812: 12
  false references removed, none true; no dev statement is a sports story). Rounds 68-71 (same
  two briefs, new hard-negative examples), written meanwhile, scored once: top P 0.888 R 0.912,
  actions P 0.744 R 0.776, families 1.0 / 0.933 (rules-2.15: 0.811 / 0.941; rules-2.3: 0.742 /
  0.952). They joined the set (4052). Over rounds 32-71 (2400 statements, each group scored once
  with the release of its time): top P 0.816 R 0.891, actions P 0.758 R 0.769, families 0.980 /
  0.904.
- rules-2.27 (c2a.6.3 is the UN making fuller use of its tools: the UPR alone is context there,
  next to a UN actor strong; a State following up its review is medium for c2a.6.6), built on the
  4052. Rounds 72-75 (60 statements each, 72 and 74 the adversarial brief, 73 and 75 the daily mix
  now asking for untracked human-rights topics too, new hard-negative examples), written
  meanwhile, scored once: top P 0.697 R 0.908, actions P 0.676 R 0.769, families 1.0 / 0.800
  (rules-2.26: 0.695 / 0.908, 0.658 / 0.769; rules-2.15: 0.639 / 0.924; rules-2.3: 0.573 /
  0.941). The hardest group so far. They prompted rules-2.28: frame names marked "=" counted only
  as written (an association's general assembly is not the UN's), sports stories told in the
  plural, messages of condolence and announcements of a session read as administrative, a frame
  may ask for its words twice (hr75.3 for rights, hr75.6 for its own), a justice frame for hr75.5
  and ngo.4 (a corruption trial is no reference). Rounds 76-79 (same two briefs, new examples),
  written meanwhile, scored once with rules-2.28: top P 0.685 R 0.901, actions P 0.680 R 0.773,
  families 1.0 / 0.765 (rules-2.26: 0.677 / 0.901, 0.671 / 0.773; rules-2.15: 0.614 / 0.929;
  rules-2.3: 0.566 / 0.934). rules-2.29: a veto next to the Council is medium for c2a.2.1 (on the
  4532: 11 false references removed, 3 true lost). Rounds 80-83 (same two briefs, new examples),
  scored once with rules-2.29: top P 0.706 R 0.924, actions P 0.746 R 0.769, families 1.0 / 1.0
  (rules-2.26: 0.685 / 0.924, 0.746 / 0.769; rules-2.15: 0.644 / 0.929; rules-2.3: 0.589 /
  0.933). They joined the set (4772). Over rounds 32-83 (3120 statements, each group scored once
  with the release of its time): top P 0.795 R 0.894, actions P 0.749 R 0.769, families 0.982 /
  0.896; over rounds 72-83 alone (720): top P 0.696 R 0.911, actions P 0.699 R 0.770.
- rules-2.30 (an election is message 5 when the page speaks of rights, democracy, women or
  violence; for c2a.1.2 the UPR and the treaty bodies next to the SDGs are medium, their outcomes
  in a development plan being c2a.1.3's subject), built on the 4772. Rounds 84-87 (same two briefs,
  new examples), written meanwhile, scored once: top P 0.739 R 0.942, actions P 0.779 R 0.898,
  families 0.938 / 0.714 (rules-2.26: 0.727 / 0.942, 0.757 / 0.898; rules-2.15: 0.646 / 0.960;
  rules-2.3: 0.593 / 0.969). They joined the set (5012). Over rounds 32-87 (3360 statements, each
  group scored once with the release of its time): top P 0.792 R 0.896, actions P 0.750 R 0.775,
  families 0.980 / 0.886; over rounds 72-87 (960): top P 0.706 R 0.918, actions P 0.718 R 0.800.
- rules-2.31: no reference changes. A cue may list alternatives ("journalists | reporters ~
  killed | jailed"), and the catalog was rewritten with them (6052 written cues became 4052 that
  stand for the same phrases); the cue a reference names no longer depends on the catalog's order
  (on a tie, the shorter span, then the shorter text). On dev and the 5012: the same references
  with the same scores; 411 statements name another cue of the same stems or an equal one.
- rules-2.32 (the week ahead and this week at the UN read as meeting calendars; a Model UN
  references nothing). Rounds 88-95 were written with a brief that spells out dev's labelling:
  the families overlap by design, and a statement whose subject falls under an entry of each is
  labelled with each (civic space is c2a.4, hr75.1 and ngo.5). Scored once with rules-2.31
  (rules-2.32 for round 88; both give the same references there): top P 0.945 R 0.857, actions
  P 0.807 R 0.832, families 0.829 / 0.944; F1 en 0.895, fr 0.898, es 0.850 (rules-2.26: top P
  0.940, actions 0.824 on rounds 89-95; rules-2.15: 0.865, 0.798; rules-2.3: 0.831, 0.678). A
  second writer labelled them again blind: micro F1 0.975 between the two. The four UPR actions
  (c2a.1.2, 1.3, 6.3, 6.6) give half the false action references there (precision 0.48; the
  other actions 0.882). They joined the set (5492).
- rules-2.33: c2a.6.3, c2a.2.1, c2a.4.5 and c2a.3.2 need one of their own strong cues (on the
  5492: 66 false action references removed, 16 true lost; dev unchanged). Rounds 96-99 (the same
  brief, new examples), written meanwhile, scored once: top P 0.902 R 0.843, actions P 0.811 R
  0.800, families 1.0 / 0.857; F1 en 0.873, fr 0.876, es 0.831 (rules-2.32: actions P 0.759 at the
  same recall; rules-2.26: top 0.900, actions 0.759; rules-2.15: 0.832, 0.682; rules-2.3: 0.805,
  0.621). They joined the set (5732). Over rounds 88-99 (720, each group scored once): top P 0.930
  R 0.852, actions P 0.809 R 0.820.
- rules-2.34: sibling actions (named as related and drawing on one theme: the four on the UPR)
  give way when under a quarter of the strongest sibling's evidence (dev's weakest labelled
  sibling holds 0.29). On the 5732: 43 false action references removed, 3 true lost; 19 false
  top-level references (their implied domain) removed, none true lost; dev unchanged.
  Rounds 100-103 (the same brief; asked also for a few statements on the UPR, the Security
  Council and human rights advisers), written meanwhile, scored once: top P 0.907 R 0.837,
  actions P 0.882 R 0.698, families 1.0 / 0.947; F1 en 0.872, fr 0.885, es 0.800 (rules-2.33:
  actions 0.859 / 0.709; rules-2.32: 0.833 / 0.756; rules-2.26: 0.793 / 0.756; rules-2.15:
  0.742 / 0.767; rules-2.3: 0.691 / 0.779). They joined the set (5972).
- rules-2.35: an own strong cue in the title meets needs_own_strong (a title naming the action
  says what the text is about); the Secretary-General's letter to the Council's President
  invoking Article 99 is c2a.2.1's own strong cue. On rounds 100-103: 3 true action references
  regained, 1 false added; on the 5732 before them: 5 true, 7 false.
  Rounds 104-107 (the same brief, new examples), written meanwhile, scored once: top P 0.909 R
  0.858, actions P 0.857 R 0.857, families 0.947 / 0.947; F1 en 0.910, fr 0.834, es 0.864
  (rules-2.32: actions 0.783 at the same recall; rules-2.26: top 0.895, actions 0.771; rules-2.15:
  0.825, 0.705; rules-2.3: 0.762, 0.609). They joined the set (6212). Over rounds 88-107 (1200,
  each group scored once with the release of its time): top P 0.922 R 0.851, actions P 0.832 R
  0.797, families 0.917 / 0.926; F1 en 0.889, fr 0.880, es 0.839.
The guard sits just under the measured level of the whole set, not at the issue's targets.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from matching import Matcher, load_catalog
from matching.evaluate import evaluate, matcher_predictor
from tests.support.shared import SHARED

HERE = Path(__file__).resolve().parent
DEV = SHARED / "eval" / "dev.jsonl"


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(load_catalog())


def figures(path: Path, matcher: Matcher) -> dict:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return evaluate(rows, matcher.catalog, matcher_predictor(matcher)).as_dict()


def test_heldout_statements_meet_the_targets(matcher):
    got = figures(HERE / "heldout.jsonl", matcher)
    summary = {k: got[k] for k in ("top", "action")} | {"by_lang": got["by_lang"]}
    assert got["statements"] >= 6212
    assert got["top"]["precision"] >= 0.85 and got["top"]["recall"] >= 0.85, summary
    assert got["action"]["precision"] >= 0.83 and got["action"]["recall"] >= 0.77, summary
    english = got["by_lang"]["en"]["f1"]
    for lang in ("fr", "es"):
        assert got["by_lang"][lang]["f1"] >= english - 0.10, summary


@pytest.mark.skipif(not DEV.exists(), reason="the shared dev set is not beside the project")
def test_dev_set_meets_the_targets(matcher):
    got = figures(DEV, matcher)
    summary = {k: got[k] for k in ("top", "action")} | {"by_lang": got["by_lang"]}
    assert got["top"]["precision"] >= 0.85 and got["top"]["recall"] >= 0.75, summary
    assert got["action"]["precision"] >= 0.90 and got["action"]["recall"] >= 0.70, summary
    english = got["by_lang"]["en"]["f1"]
    for lang in ("fr", "es"):
        assert got["by_lang"][lang]["f1"] >= english - 0.10, summary
