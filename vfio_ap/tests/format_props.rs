// SPDX-License-Identifier: GPL-2.0
//! Property tests of the byte formats: the CRYCB (round trip per format, the other APCB
//! untouched), the mdev `create` UUID (never panics, canonical round trip), the sysfs matrix
//! text (parses back) and the VFIO structures (round trip, SET_IRQS rules).

use proptest::prelude::*;
use vfio_ap::crycb::{Crycb, CrycbFormat, CRYCB_SIZE};
use vfio_ap::ids::MatrixLimits;
use vfio_ap::mask::Mask;
use vfio_ap::matrix::Matrix;
use vfio_ap::text::BufWriter;
use vfio_ap::uuid::{create_store, guid_parse, uuid_is_valid};
use vfio_ap::vfio::{
    set_irqs, set_irqs_validate_and_prepare, DeviceInfo, IrqInfo, IrqSet, VFIO_AP_NUM_IRQS,
    VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_IRQ_SET_DATA_EVENTFD,
};
use vfio_ap::vfio_text::write_matrix;

fn mask() -> impl Strategy<Value = Mask> {
    prop_oneof![
        Just(Mask::ZERO),
        Just(Mask::FULL),
        any::<[u8; 32]>().prop_map(Mask),
        proptest::collection::vec(any::<u8>(), 0..8).prop_map(|v| Mask::from_ids(&v)),
    ]
}

fn format() -> impl Strategy<Value = CrycbFormat> {
    prop_oneof![
        Just(CrycbFormat::Format0),
        Just(CrycbFormat::Format1),
        Just(CrycbFormat::Format2)
    ]
}

fn block() -> impl Strategy<Value = Crycb> {
    proptest::collection::vec(any::<u8>(), CRYCB_SIZE).prop_map(|v| {
        let mut c = Crycb::ZERO;
        c.0.copy_from_slice(&v);
        c
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    /// set_masks then decode gives back what the format can hold, from a cleared block.
    #[test]
    fn crycb_round_trip(f in format(), a in mask(), q in mask(), d in mask()) {
        let mut c = Crycb::ZERO;
        c.set_masks(f, &a, &q, &d);
        prop_assert_eq!(c.masks(f), Crycb::representable(f, &a, &q, &d));
        if f == CrycbFormat::Format2 {
            prop_assert_eq!(c.masks(f), (a, q, d));
        }
        c.clear_masks();
        prop_assert_eq!(c, Crycb::ZERO);
    }

    /// Only the bytes of the format's masks change; the other APCB and the rest stay.
    #[test]
    fn crycb_touches_only_its_apcb(f in format(), a in mask(), q in mask(), d in mask(), c0 in block()) {
        let mut c = c0;
        c.set_masks(f, &a, &q, &d);
        let written: &[(usize, usize)] = match f {
            CrycbFormat::Format2 => &[(0x80, 0xe0)],
            _ => &[(0x00, 0x08), (0x08, 0x0a), (0x10, 0x12)],
        };
        for i in 0..CRYCB_SIZE {
            if !written.iter().any(|&(a, z)| (a..z).contains(&i)) {
                prop_assert_eq!(c.0[i], c0.0[i], "byte {:#x}", i);
            }
        }
        prop_assert_eq!(c.masks(f), Crycb::representable(f, &a, &q, &d));
        // The designation with value 2 copies nothing.
        let mut c2 = c0;
        c2.set_masks_crycbd(0xfff0_0002, &a, &q, &d);
        prop_assert_eq!(c2, c0);
        let mut c3 = c0;
        c3.clear_masks();
        prop_assert_eq!(&c3.0[0x20..0x80], &c0.0[0x20..0x80]);
        prop_assert!(c3.0[..0x20].iter().chain(&c3.0[0x80..]).all(|&b| b == 0));
    }

    /// `create` never panics; what it accepts is 36 or 37 bytes with a valid UUID first.
    #[test]
    fn create_never_panics(b in proptest::collection::vec(any::<u8>(), 0..60)) {
        let r = create_store(&b);
        if r.is_ok() {
            prop_assert!(b.len() == 36 || b.len() == 37);
            prop_assert!(uuid_is_valid(&b));
        }
        let _ = guid_parse(&b);
    }

    /// Valid UUIDs in any case parse; the canonical text is the lowercased input, and parsing
    /// it again gives the same bytes.
    #[test]
    fn uuid_round_trip(s in "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", tail in proptest::option::of(any::<u8>())) {
        let mut b = s.clone().into_bytes();
        if let Some(t) = tail {
            b.push(t);
        }
        let g = create_store(&b);
        prop_assert!(g.is_ok(), "{:?}", g);
        let g = g.unwrap();
        let text = g.to_text();
        prop_assert_eq!(std::str::from_utf8(&text).unwrap(), s.to_lowercase());
        prop_assert_eq!(guid_parse(&text), Ok(g));
        prop_assert_eq!(format!("{g}"), s.to_lowercase());
    }

    /// The `matrix` text lists exactly the APQNs within the limits, and is cut at a page.
    #[test]
    fn matrix_text_parses_back(a in mask(), q in mask(), amax in any::<u8>(), qmax in any::<u8>()) {
        let m = Matrix {
            apm: a,
            aqm: q,
            adm: Mask::ZERO,
            limits: MatrixLimits { apm_max: amax, aqm_max: qmax, adm_max: 0 },
        };
        let mut s = String::new();
        write_matrix(&mut s, &m).unwrap();
        let (a, q) = (a.and(&Mask::up_to(amax)), q.and(&Mask::up_to(qmax)));
        let mut ga = Mask::ZERO;
        let mut gq = Mask::ZERO;
        let mut lines = 0usize;
        for l in s.lines() {
            lines += 1;
            let (x, y) = l.split_once('.').unwrap();
            if !x.is_empty() {
                ga.set(u8::from_str_radix(x, 16).unwrap());
            }
            if !y.is_empty() {
                gq.set(u8::try_from(u16::from_str_radix(y, 16).unwrap()).unwrap());
            }
        }
        prop_assert_eq!((ga, gq), (a, q));
        let want = match (a.count(), q.count()) {
            (0, n) | (n, 0) => n as usize,
            (x, y) => (x * y) as usize,
        };
        prop_assert_eq!(lines, want);
        let mut page = [0u8; 4096];
        let mut w = BufWriter::sysfs(&mut page);
        write_matrix(&mut w, &m).unwrap();
        prop_assert_eq!(w.len(), s.len().min(4095));
        prop_assert_eq!(w.as_bytes(), &s.as_bytes()[..w.len()]);
    }

    /// The VFIO structures round-trip through their bytes; SET_IRQS accepts exactly
    /// TRIGGER|EVENTFD (plus other action bits) on index 0 or 1, start 0, count 0 or 1 and
    /// enough argsz.
    #[test]
    fn vfio_structs(argsz in any::<u32>(), flags in any::<u32>(), index in 0u32..4, start in 0u32..3, count in prop_oneof![0u32..3, Just(u32::MAX), Just(u32::MAX - 1)], x in any::<u32>()) {
        let di = DeviceInfo { argsz, flags, num_regions: x, num_irqs: index };
        prop_assert_eq!(DeviceInfo::from_ne_bytes(&di.to_ne_bytes()), di);
        let ii = IrqInfo { argsz, flags, index, count };
        prop_assert_eq!(IrqInfo::from_ne_bytes(&ii.to_ne_bytes()), ii);
        let h = IrqSet { argsz, flags: flags & 0x3f, index, start, count };
        prop_assert_eq!(IrqSet::from_ne_bytes(&h.to_ne_bytes()), h);
        let ok = h.flags & (VFIO_IRQ_SET_ACTION_TRIGGER | 7) == VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_EVENTFD
            && index < VFIO_AP_NUM_IRQS
            && start == 0
            && count <= 1
            && u64::from(argsz) >= 20 + 4 * u64::from(count);
        prop_assert_eq!(set_irqs(&h).is_ok(), ok, "{:?}", h);
        if let Ok(n) = set_irqs_validate_and_prepare(&h, 1, VFIO_AP_NUM_IRQS) {
            prop_assert!(n <= 4);
        }
    }
}
