// SPDX-License-Identifier: GPL-2.0
//! Property tests of the `ap_config` attribute model.

use proptest::prelude::*;
use vfio_ap::ap_config::{parse_ap_config, write_ap_config, AP_CONFIG_STRLEN};
use vfio_ap::mask::Mask;
use vfio_ap::parse::ParseError;

fn mask_strategy() -> impl Strategy<Value = Mask> {
    prop_oneof![
        Just(Mask::ZERO),
        Just(Mask::FULL),
        any::<[u8; 32]>().prop_map(Mask),
        proptest::collection::vec(any::<u8>(), 0..6).prop_map(|v| Mask::from_ids(&v)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn show_then_store_round_trips(a in mask_strategy(), b in mask_strategy(), c in mask_strategy()) {
        let mut s = String::new();
        write_ap_config(&mut s, &a, &b, &c).unwrap();
        prop_assert_eq!(s.len(), AP_CONFIG_STRLEN);
        prop_assert_eq!(parse_ap_config(s.as_bytes()), Ok((a, b, c)));
        // Without the trailing newline, and with "\n" as separator.
        prop_assert_eq!(parse_ap_config(s.trim_end().as_bytes()), Ok((a, b, c)));
        prop_assert_eq!(parse_ap_config(s.replace(',', "\n").as_bytes()), Ok((a, b, c)));
    }

    #[test]
    fn short_tokens_pad_right(
        x in "[0-9a-f]{0,64}", y in "[0-9a-f]{0,64}", z in "[0-9a-f]{0,64}", tail in "(,[ -~]{0,20})?"
    ) {
        let s = format!("{x},{y},{z}{tail}");
        let one = |t: &str| {
            let mut m = Mask::ZERO;
            ap_bus::parse::hex2bitmap(t.as_bytes(), &mut m).unwrap();
            m
        };
        prop_assert_eq!(parse_ap_config(s.as_bytes()), Ok((one(&x), one(&y), one(&z))));
    }

    #[test]
    fn fewer_than_three_tokens_fail(x in "[0-9a-f]{0,64}", y in "[0-9a-f]{0,64}") {
        prop_assert_eq!(parse_ap_config(x.as_bytes()), Err(ParseError::Inval));
        prop_assert_eq!(parse_ap_config(format!("{x},{y}").as_bytes()), Err(ParseError::Inval));
    }

    #[test]
    fn never_panics_and_stops_at_nul(
        a in proptest::collection::vec(1u8..=255, 0..260), b in proptest::collection::vec(any::<u8>(), 0..20)
    ) {
        let mut ab = a.clone();
        ab.push(0);
        ab.extend_from_slice(&b);
        prop_assert_eq!(parse_ap_config(&ab), parse_ap_config(&a));
    }
}
