// SPDX-License-Identifier: GPL-2.0
//! Property tests of the AP bus model: invariants that hold without a reference
//! implementation (round trips, set algebra, bounds, termination at NUL, no panics).

use ap_bus::hw::{
    QciInfo, QueueStatus, TapqHwInfo, QCI_APSB, QCI_APSC, QCI_APXA, QCI_QACT, QCI_RC8A,
};
use ap_bus::ids::{Apqn, IdLimits};
use ap_bus::mask::Mask;
use ap_bus::owner::{apmask_in_use_query, aqmask_in_use_query, needs_reprobe, Perms};
use ap_bus::parse::*;
use ap_bus::text::{write_features, write_mask_attr, BufWriter};
use proptest::prelude::*;

fn mask_strategy() -> impl Strategy<Value = Mask> {
    prop_oneof![
        Just(Mask::ZERO),
        Just(Mask::FULL),
        any::<[u8; 32]>().prop_map(Mask),
        proptest::collection::vec(any::<u8>(), 0..8).prop_map(|v| Mask::from_ids(&v)),
    ]
}

/// A number in one of the notations `simple_strtoul(…, 0)` understands.
fn fmt_num(v: u8, style: u8) -> String {
    match style % 4 {
        0 => format!("{v}"),
        1 => format!("0x{v:x}"),
        2 => format!("0X{v:X}"),
        _ => format!("0{v:o}"),
    }
}

#[derive(Clone, Debug)]
struct Term {
    plus: bool,
    a: u8,
    z: Option<u8>,
    style_a: u8,
    style_z: u8,
    sep: u8,
}

fn term_strategy() -> impl Strategy<Value = Term> {
    (
        any::<bool>(),
        any::<u8>(),
        proptest::option::of(any::<u8>()),
        any::<u8>(),
        any::<u8>(),
        0u8..5,
    )
        .prop_map(|(plus, a, z, style_a, style_z, sep)| {
            let z = z.map(|z| z.max(a));
            Term {
                plus,
                a,
                z,
                style_a,
                style_z,
                sep,
            }
        })
}

fn render_terms(terms: &[Term]) -> String {
    let mut s = String::new();
    for (i, t) in terms.iter().enumerate() {
        s.push(if t.plus { '+' } else { '-' });
        s.push_str(&fmt_num(t.a, t.style_a));
        if let Some(z) = t.z {
            s.push('-');
            s.push_str(&fmt_num(z, t.style_z));
        }
        let next_is_minus = terms.get(i + 1).is_some_and(|n| !n.plus);
        let sep = match t.sep {
            0 => ",",
            1 => "\n",
            2 => ",,\n,",
            3 => ",\n",
            // No separator: fine unless it would turn the next "-" into a range.
            _ if next_is_minus && t.z.is_none() => ",",
            _ => "",
        };
        s.push_str(sep);
    }
    s
}

fn apply_terms(start: &Mask, terms: &[Term]) -> Mask {
    let mut bits: Vec<bool> = (0..=255u8).map(|n| start.test(n)).collect();
    for t in terms {
        for n in t.a..=t.z.unwrap_or(t.a) {
            bits[usize::from(n)] = t.plus;
        }
    }
    let mut m = Mask::ZERO;
    for (n, b) in bits.iter().enumerate() {
        if *b {
            m.set(n as u8);
        }
    }
    m
}

fn qci_with_flags(flags: u32) -> QciInfo {
    let mut q = QciInfo::EMPTY;
    q.set_flags(flags);
    q
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    // ---- masks ----

    #[test]
    fn mask_display_round_trips(m in mask_strategy(), cur in mask_strategy(), nl in any::<bool>()) {
        let s = format!("{m}{}", if nl { "\n" } else { "" });
        prop_assert_eq!(parse_mask(s.as_bytes(), &cur), Ok(m));
        let s = format!("x{}", m.no_prefix());
        prop_assert_eq!(parse_mask(s.as_bytes(), &cur), Ok(m));
        let s = format!("{}", m.no_prefix());
        prop_assert_eq!(parse_mask(s.as_bytes(), &cur), Ok(m));
        let mut page = [0u8; 4096];
        let mut w = BufWriter::sysfs(&mut page);
        write_mask_attr(&mut w, &m).unwrap();
        prop_assert_eq!(w.len(), 67);
        prop_assert_eq!(parse_mask(w.as_bytes(), &cur), Ok(m));
    }

    #[test]
    fn mask_words_round_trip(m in mask_strategy()) {
        prop_assert_eq!(Mask::from_be_words(m.to_be_words()), m);
        prop_assert_eq!(Mask::from_u64_words(m.to_u64_words()), m);
        let w = m.to_u64_words();
        let b = m.to_be_words();
        for n in 0..=255u8 {
            let i = usize::from(n);
            prop_assert_eq!(w[i / 64] & (1u64 << (63 - i % 64)) != 0, m.test(n));
            prop_assert_eq!(b[i / 32] & (0x8000_0000u32 >> (i % 32)) != 0, m.test(n));
        }
    }

    #[test]
    fn mask_set_algebra(a in mask_strategy(), b in mask_strategy()) {
        let ids: Vec<u8> = a.iter().collect();
        prop_assert_eq!(ids.len() as u32, a.count());
        prop_assert!(ids.windows(2).all(|w| w[0] < w[1]));
        prop_assert!(ids.iter().all(|&n| a.test(n)));
        prop_assert_eq!(a.first(), ids.first().copied());
        prop_assert_eq!(a.last(), ids.last().copied());
        prop_assert_eq!(a.and(&b).not(), a.not().or(&b.not()));
        prop_assert_eq!(a.and_not(&b), a.and(&b.not()));
        prop_assert_eq!(a.intersects(&b), !a.and(&b).is_empty());
        prop_assert_eq!(a.is_subset_of(&b), a.and_not(&b).is_empty());
        prop_assert_eq!(a.is_empty(), a.count() == 0);
        prop_assert_eq!(a.is_full(), a.count() == 256);
    }

    // ---- absolute form ----

    #[test]
    fn hex2bitmap_digits(digits in "[0-9a-fA-F]{0,64}", prefix in 0usize..3, nl in any::<bool>()) {
        let p = ["", "0x", "x"][prefix];
        let s = format!("{p}{digits}{}", if nl { "\n" } else { "" });
        let mut m = Mask::ZERO;
        prop_assert_eq!(hex2bitmap(s.as_bytes(), &mut m), Ok(()));
        for (k, c) in digits.chars().enumerate() {
            let v = c.to_digit(16).unwrap();
            for n in 0..4 {
                prop_assert_eq!(m.test((4 * k + n) as u8), v & (8 >> n) != 0);
            }
        }
        for n in (4 * digits.len())..256 {
            prop_assert!(!m.test(n as u8));
        }
    }

    #[test]
    fn hex2bitmap_rejects_more_than_64_digits(digits in "[0-9a-fA-F]{65,100}", prefix in 0usize..3) {
        let p = ["", "0x", "x"][prefix];
        let s = format!("{p}{digits}");
        prop_assert_eq!(parse_mask(s.as_bytes(), &Mask::ZERO), Err(ParseError::Inval));
        let mut m = Mask::ZERO;
        prop_assert_eq!(hex2bitmap(s.as_bytes(), &mut m), Err(ParseError::Inval));
    }

    #[test]
    fn absolute_ignores_current(s in "(0x|x)?[0-9a-f]{0,64}\n?", a in mask_strategy(), b in mask_strategy()) {
        prop_assert_eq!(parse_mask(s.as_bytes(), &a), parse_mask(s.as_bytes(), &b));
    }

    #[test]
    fn absolute_trailing_junk_rejected(s in "(0x)?[0-9a-f]{0,64}", junk in "[ ,;g\n+-][ -~]{0,4}") {
        // One "\n" alone is allowed; anything else after the digits is not.
        prop_assume!(junk != "\n");
        let t = format!("{s}{junk}");
        prop_assert_eq!(parse_mask(t.as_bytes(), &Mask::ZERO), Err(ParseError::Inval));
    }

    // ---- relative form ----

    #[test]
    fn relative_is_set_algebra(start in mask_strategy(), terms in proptest::collection::vec(term_strategy(), 1..8)) {
        let s = render_terms(&terms);
        prop_assert_eq!(parse_mask(s.as_bytes(), &start), Ok(apply_terms(&start, &terms)), "{:?}", s);
    }

    #[test]
    fn relative_failure_is_all_or_nothing(
        start in mask_strategy(),
        terms in proptest::collection::vec(term_strategy(), 1..5),
        bad in prop_oneof![
            Just(" "), Just(";"), Just("x"), Just("+256"), Just("-0x100"), Just("+"), Just("+1-"),
            Just("+5-4"), Just("+08"), Just("+0x"), Just("++1"), Just("+18446744073709551616"),
        ],
    ) {
        let s = format!("{}{}{bad}", render_terms(&terms), if terms.last().is_some_and(|t| t.sep == 4) { "," } else { "" });
        prop_assert_eq!(parse_mask(s.as_bytes(), &start), Err(ParseError::Inval), "{:?}", s);
    }

    #[test]
    fn relative_out_of_range(sign in prop_oneof![Just('+'), Just('-')], v in 256u64..) {
        let s = format!("{sign}{v}");
        prop_assert_eq!(parse_mask(s.as_bytes(), &Mask::ZERO), Err(ParseError::Inval));
        let s = format!("{sign}0-{v}");
        prop_assert_eq!(parse_mask(s.as_bytes(), &Mask::ZERO), Err(ParseError::Inval));
    }

    // ---- number parsers ----

    #[test]
    fn strtoul_round_trips(v in any::<u64>()) {
        let d = format!("{v}");
        prop_assert_eq!(simple_strtoul(d.as_bytes(), 0), (v, d.len()));
        prop_assert_eq!(simple_strtoul(d.as_bytes(), 10), (v, d.len()));
        let h = format!("0x{v:x}");
        prop_assert_eq!(simple_strtoul(h.as_bytes(), 0), (v, h.len()));
        prop_assert_eq!(simple_strtoul(h.as_bytes(), 16), (v, h.len()));
        let o = format!("0{v:o}");
        prop_assert_eq!(simple_strtoul(o.as_bytes(), 0), (v, o.len()));
        prop_assert_eq!(kstrtoul(d.as_bytes(), 0), Ok(v));
        prop_assert_eq!(kstrtoul(format!("+{h}\n").as_bytes(), 0), Ok(v));
        prop_assert_eq!(kstrtoul(o.as_bytes(), 0), Ok(v));
        prop_assert_eq!(kstrtoul(format!("{d}\n\n").as_bytes(), 0), Err(ParseError::Inval));
        prop_assert_eq!(kstrtoul(format!(" {d}").as_bytes(), 0), Err(ParseError::Inval));
        prop_assert_eq!(kstrtoul(format!("-{d}").as_bytes(), 0), Err(ParseError::Inval));
        prop_assert_eq!(kstrtouint(d.as_bytes(), 0).ok(), u32::try_from(v).ok());
    }

    #[test]
    fn strtoul_saturates(v in (u128::from(u64::MAX) + 1)..u128::MAX) {
        let d = format!("{v}");
        prop_assert_eq!(simple_strtoul(d.as_bytes(), 0), (u64::MAX, d.len()));
        prop_assert_eq!(simple_strtoul(format!("0x{v:x}").as_bytes(), 0).0, u64::MAX);
        prop_assert_eq!(kstrtoul(d.as_bytes(), 0), Err(ParseError::Range));
        prop_assert_eq!(kstrtoul(format!("{d}garbage").as_bytes(), 0), Err(ParseError::Range));
    }

    #[test]
    fn signed_round_trips(v in any::<i64>(), w in any::<i32>()) {
        prop_assert_eq!(kstrtoll(format!("{v}").as_bytes(), 0), Ok(v));
        prop_assert_eq!(kstrtoint(format!("{w}\n").as_bytes(), 10), Ok(w));
        prop_assert_eq!(kstrtoint(format!("{v}").as_bytes(), 10).ok(), i32::try_from(v).ok());
        prop_assert_eq!(simple_strtol(format!("{v}").as_bytes(), 10).0, v);
        prop_assert_eq!(sscanf_int(format!(" \t{w}\nrest").as_bytes(), IntConv::D), Some(w));
        prop_assert_eq!(sscanf_int(format!("{w}").as_bytes(), IntConv::I), Some(w));
        // %d truncates the 64-bit value to int.
        prop_assert_eq!(sscanf_int(format!("{v}").as_bytes(), IntConv::D), Some(v as i32));
    }

    #[test]
    fn kstrtobool_looks_at_two_bytes(s in proptest::collection::vec(any::<u8>(), 0..8)) {
        let head: Vec<u8> = s.iter().copied().take(2).collect();
        let r = kstrtobool(&s);
        prop_assert_eq!(r, kstrtobool(&head));
        if let Some(&c) = c_str(&s).first() {
            if b"eEyYtT1".contains(&c) { prop_assert_eq!(r, Ok(true)); }
            if b"dDnNfF0".contains(&c) { prop_assert_eq!(r, Ok(false)); }
        } else {
            prop_assert_eq!(r, Err(ParseError::Inval));
        }
    }

    // ---- every parser stops at NUL and never panics ----

    #[test]
    fn nul_terminates_every_parser(
        a in proptest::collection::vec(1u8..=255, 0..80),
        b in proptest::collection::vec(any::<u8>(), 0..40),
        base in prop_oneof![Just(0u32), Just(8), Just(10), Just(16), Just(2), Just(36)],
        cur in mask_strategy(),
    ) {
        let mut ab = a.clone();
        ab.push(0);
        ab.extend_from_slice(&b);
        prop_assert_eq!(parse_mask(&ab, &cur), parse_mask(&a, &cur));
        prop_assert_eq!(simple_strtoul(&ab, base), simple_strtoul(&a, base));
        prop_assert_eq!(simple_strtol(&ab, base), simple_strtol(&a, base));
        prop_assert_eq!(kstrtoull(&ab, base), kstrtoull(&a, base));
        prop_assert_eq!(kstrtoll(&ab, base), kstrtoll(&a, base));
        prop_assert_eq!(kstrtobool(&ab), kstrtobool(&a));
        prop_assert_eq!(sscanf_int(&ab, IntConv::D), sscanf_int(&a, IntConv::D));
        prop_assert_eq!(sscanf_int(&ab, IntConv::I), sscanf_int(&a, IntConv::I));
        let (mut m1, mut m2) = (cur, cur);
        prop_assert_eq!(modify_bitmap(&ab, &mut m1), modify_bitmap(&a, &mut m2));
        prop_assert_eq!(m1, m2);
        prop_assert_eq!(
            ap_bus::sim::parse_machine_spec(&ab),
            ap_bus::sim::parse_machine_spec(&a)
        );
        prop_assert_eq!(ap_bus::sim::parse_command(&ab), ap_bus::sim::parse_command(&a));
    }

    #[test]
    fn parse_mask_never_panics(s in proptest::collection::vec(any::<u8>(), 0..300), cur in mask_strategy()) {
        let r = parse_mask(&s, &cur);
        if let Ok(m) = r {
            // Whatever was accepted re-parses from its display to the same mask.
            prop_assert_eq!(parse_mask(format!("{m}").as_bytes(), &Mask::ZERO), Ok(m));
        }
        let _ = parse_ap_domain(&s, 255, &cur);
        let _ = parse_config_time(&s);
        let _ = parse_poll_timeout(&s);
        let _ = parse_zero_one(&s);
    }

    // ---- store helpers ----

    #[test]
    fn ap_domain_rules(d in any::<i32>(), max in any::<u8>(), aqm in mask_strategy()) {
        let r = parse_ap_domain(format!("{d}\n").as_bytes(), max, &aqm);
        let valid = (0..=i32::from(max)).contains(&d) && aqm.test(d as u8);
        prop_assert_eq!(r.is_ok(), valid);
        if valid {
            prop_assert_eq!(r, Ok(d as u8));
        }
    }

    // ---- ownership ----

    #[test]
    fn in_use_queries_only_for_newly_set_bits(old in mask_strategy(), new in mask_strategy()) {
        let newly = new.and_not(&old);
        match apmask_in_use_query(&old, &new) {
            None => prop_assert!(newly.is_empty()),
            Some((apm, aqm)) => {
                prop_assert_eq!(apm, newly);
                prop_assert!(aqm.is_full());
            }
        }
        match aqmask_in_use_query(&old, &new) {
            None => prop_assert!(newly.is_empty()),
            Some((apm, aqm)) => {
                prop_assert!(apm.is_full());
                prop_assert_eq!(aqm, newly);
            }
        }
    }

    #[test]
    fn matrix_ownership_is_any_reserved_apqn(
        papm in mask_strategy(), paqm in mask_strategy(), apm in mask_strategy(), aqm in mask_strategy()
    ) {
        let p = Perms { apm: papm, aqm: paqm };
        let brute = apm.iter().any(|a| aqm.iter().any(|d| p.reserved_for_host(Apqn::new(a, d))));
        prop_assert_eq!(p.matrix_owned_by_default(&apm, &aqm), brute);
        prop_assert_eq!(p.matrix_owned_by_default_with(&apm, &aqm, |_| None), brute);
        prop_assert_eq!(p.matrix_owned_by_default_counted(&apm, &aqm, 0, |_| None), brute);
    }

    #[test]
    fn counted_ownership_with_overrides_asks_each_apqn(
        papm in mask_strategy(), paqm in mask_strategy(), apm in mask_strategy(),
        aqm in mask_strategy(), n in 1u32..4, seed in any::<u8>(),
    ) {
        let p = Perms { apm: papm, aqm: paqm };
        // Some queues have overrides: bound to a default driver or not, by a hash of the APQN.
        let ovr = |q: Apqn| {
            let h = q.apid.wrapping_mul(31) ^ q.apqi.wrapping_mul(17) ^ seed;
            h.is_multiple_of(5).then_some(h.is_multiple_of(2))
        };
        prop_assert_eq!(
            p.matrix_owned_by_default_counted(&apm, &aqm, n, ovr),
            p.matrix_owned_by_default_with(&apm, &aqm, ovr)
        );
    }

    #[test]
    fn reprobe_iff_reservation_disagrees(
        papm in mask_strategy(), paqm in mask_strategy(), oapm in mask_strategy(),
        oaqm in mask_strategy(), a in any::<u8>(), d in any::<u8>(),
        bound in proptest::option::of(any::<bool>()),
    ) {
        let p = Perms { apm: papm, aqm: paqm };
        let old = Perms { apm: oapm, aqm: oaqm };
        let q = Apqn::new(a, d);
        let now = p.reserved_for_host(q);
        let expect = match bound {
            Some(b) => now != b,
            None => now || now != old.reserved_for_host(q),
        };
        prop_assert_eq!(needs_reprobe(&p, &old, q, bound), expect);
    }

    // ---- ids, hw, text ----

    #[test]
    fn qid_round_trips(qid in any::<u16>()) {
        let q = Apqn::from_qid(qid);
        prop_assert_eq!(q.qid(), qid);
        let s = format!("{q}");
        prop_assert_eq!(s.len(), 7);
        prop_assert_eq!(u16::from_str_radix(&s[..2], 16).unwrap(), u16::from(q.apid));
        prop_assert_eq!(u16::from_str_radix(&s[3..], 16).unwrap(), u16::from(q.apqi));
    }

    #[test]
    fn bus_limits_rule(flags in any::<u32>(), na in any::<u8>(), nd in any::<u8>()) {
        let mut q = qci_with_flags(flags);
        q.set_na(na);
        q.set_nd(nd);
        let l = IdLimits::bus_from_qci(Some(&q));
        let apxa = flags & QCI_APXA != 0;
        prop_assert_eq!(l.max_apid, if apxa && na != 0 { na } else { 63 });
        prop_assert_eq!(l.max_apqi, if apxa && nd != 0 { nd } else { 15 });
        let m = IdLimits::matrix_from_qci(Some(&q));
        prop_assert_eq!((m.apm_max, m.aqm_max, m.adm_max), if apxa { (na, nd, nd) } else { (63, 15, 15) });
    }

    #[test]
    fn hw_fields_are_independent(v in any::<u64>(), at in any::<u8>(), qd in any::<u8>(), rc in any::<u8>()) {
        let h = TapqHwInfo(v).with_at(at).with_qd(qd);
        prop_assert_eq!(h.at(), at);
        prop_assert_eq!(h.qd(), qd & 0x1f);
        prop_assert_eq!(h.fac(), TapqHwInfo(v).fac());
        prop_assert_eq!(h.nd(), TapqHwInfo(v).nd());
        prop_assert_eq!(h.ml(), TapqHwInfo(v).ml());
        prop_assert_eq!(h.card_part().card_part(), h.card_part());
        let s = QueueStatus(v as u32).with_rc(rc);
        prop_assert_eq!(s.response_code(), rc);
        prop_assert_eq!(s.status_bits(), QueueStatus(v as u32).status_bits());
    }

    #[test]
    fn features_words(flags in any::<u32>()) {
        let q = qci_with_flags(flags);
        let mut s = String::new();
        write_features(&mut s, Some(&q)).unwrap();
        let known = [QCI_APSC, QCI_APXA, QCI_QACT, QCI_RC8A, QCI_APSB];
        let n = known.iter().filter(|&&b| flags & b != 0).count();
        if flags == 0 {
            prop_assert_eq!(s, "-\n");
        } else if n == 0 {
            prop_assert_eq!(s, "");
        } else {
            prop_assert!(s.ends_with('\n') && !s.contains("  ") && !s.starts_with(' '));
            prop_assert_eq!(s.trim_end().split(' ').count(), n);
        }
    }
}
