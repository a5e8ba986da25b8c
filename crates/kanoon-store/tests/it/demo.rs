//! The demo generator gives a consistent center: counts as asked, derived
//! state equal to the fold, every change in the outbox with its author.

use kanoon_domain::circulation::fold;
use kanoon_protocol::OpBody;
use kanoon_store::demo::{DemoSize, generate};

use crate::support::*;

#[test]
fn a_small_demo_center_is_consistent() {
    let mut f = desk();
    let size = DemoSize::fraction(0.005);
    let s = generate(&mut f.desk, size, 7).unwrap();
    assert_eq!((s.titles, s.copies, s.members), (size.titles, size.copies, size.members));
    assert!(s.loans >= size.past_loans * 9 / 10, "{} of {}", s.loans, size.past_loans);
    assert!(s.open_loans > 0);

    let log = f.desk.event_log().unwrap();
    let state = fold(&log);
    assert!(state.anomalies.is_empty(), "{:?}", &state.anomalies[..state.anomalies.len().min(3)]);
    let open = f.desk.all_open_loans().unwrap();
    assert_eq!(open.len(), s.open_loans);
    assert_eq!(
        open.iter().map(|l| l.loan_id).collect::<Vec<_>>(),
        state.open_loans.keys().copied().collect::<Vec<_>>()
    );

    let ops = f.desk.outbox(10_000_000).unwrap();
    let events = ops.iter().filter(|o| matches!(o.body, OpBody::Event { .. })).count();
    assert_eq!(events, log.len());
    assert!(ops.iter().all(|o| o.staff_id.is_some() && o.op_id.get_version_num() == 7));
    // Every member number is valid and unique; lists sort in Persian order.
    let members = f.desk.list_members(0, 100_000).unwrap();
    assert_eq!(members.len(), s.members);
    for m in &members {
        kanoon_domain::ids::MemberNumber::parse(&m.member_number).unwrap();
    }
    let keys: Vec<String> = members
        .iter()
        .map(|m| kanoon_domain::text::collation_key(&m.full_name.split(' ').rev().collect::<Vec<_>>().join(" ")))
        .collect();
    assert!(keys.windows(2).all(|w| w[0] <= w[1]));
}
