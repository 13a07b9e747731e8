// SPDX-License-Identifier: GPL-2.0

//! KUnit tests of `bus.rs` (the show buffer). The abstractions are compiled into every module
//! and a KUnit suite name is global, so only `ap.ko` includes this file.

use kernel::prelude::*;

#[kunit_tests(ap_rs_bus_abstractions)]
mod tests {
    use crate::abs::bus::ShowBuf;
    use core::fmt::Write;

    #[test]
    fn show_buf_cuts_at_the_end_of_the_page() {
        let mut page = [0u8; 8];
        let mut b = ShowBuf::new(&mut page);
        assert!(write!(b, "0123").is_ok());
        assert!(write!(b, "456789").is_ok());
        assert_eq!(b.len(), 8);
        assert_eq!(&page, b"01234567");
    }

    #[test]
    fn show_buf_advance_is_bounded() {
        let mut page = [0u8; 4];
        let mut b = ShowBuf::new(&mut page);
        b.advance(3);
        b.advance(usize::MAX);
        assert_eq!(b.len(), 4);
        assert!(b.rest().is_empty());
    }
}
