//! The center's villages and the van's route: which village the van
//! visits on which day of the fortnight, and when a loan made in a village
//! is due.

use chrono::{Duration, NaiveDate};
use kanoon_domain::entities::Permission;
use kanoon_domain::outreach::{self, RoutePlan, Slot};
use kanoon_domain::text;
use uuid::Uuid;

use super::{ROUTE_ANCHOR, RouteStop, VillageInput, VillageView, jalali};
use crate::circulation::CheckOutRequest;
use crate::desk::Desk;
use crate::error::{Result, StoreError};
use crate::rows::load_existing;
use crate::rows::outreach::{self as rows, VillageRecord};

pub(super) const VILLAGE_MISSING: &str = "این روستا پیدا نشد؛ فهرست روستاها را دوباره باز کنید.";

impl Desk {
    /// The center's villages by name, retired ones last, each with its
    /// next visit.
    pub fn villages(&self) -> Result<Vec<VillageView>> {
        self.signed()?;
        let (plan, changes) = self.route_plan()?;
        let closed = &self.reference()?.policy.closed;
        let today = self.today();
        let mut out: Vec<VillageView> = rows::villages_of(&self.conn, self.center_id()?)?
            .into_iter()
            .map(|(id, v)| {
                // Today's visit counts as the next one.
                let next = today
                    .pred_opt()
                    .and_then(|before| outreach::next_visit_after(id, before, &plan, closed, &changes))
                    .filter(|_| !v.retired);
                view(id, &v, next)
            })
            .collect();
        out.sort_by_key(|v| v.retired);
        Ok(out)
    }

    /// Adds a village (`id` None) or changes its details; its route slot
    /// and eligibility decision keep their own commands.
    pub fn save_village(&mut self, id: Option<Uuid>, input: VillageInput) -> Result<VillageView> {
        self.require(Permission::ServeVillages)?;
        let center_id = self.center_id()?;
        let clean = |s: &str| text::clean_text(s);
        let optional = |s: Option<&str>| s.map(clean).filter(|s| !s.is_empty());
        let mut record = VillageRecord {
            center_id,
            name: clean(&input.name),
            district: clean(&input.district),
            eligible: input.eligible,
            ineligible_reason: optional(input.ineligible_reason.as_deref()),
            distance_km: input.distance_km,
            school: optional(input.school.as_deref()),
            contact_name: clean(&input.contact_name),
            contact_phone: text::to_ascii_digits(input.contact_phone.trim()),
            children: input.children,
            slot: None,
            retired: false,
        };
        record.to_domain(Uuid::nil()).validate()?;
        if !record.eligible && record.ineligible_reason.is_none() {
            return Err(StoreError::InvalidInput("چرا این روستا واجد شرایط نیست؟ دلیل را بنویسید.".into()));
        }
        let key = text::normalize_search(&record.name);
        let same_name = rows::villages_of(&self.conn, center_id)?
            .into_iter()
            .any(|(other, v)| Some(other) != id && !v.retired && text::normalize_search(&v.name) == key);
        if same_name {
            return Err(StoreError::Conflict(format!(
                "روستای «{}» پیش‌تر در فهرست هست؛ همان را ویرایش کنید.",
                record.name
            )));
        }
        let id = match id {
            None => {
                let id = Uuid::now_v7();
                self.write(|w| w.save(id, &record, None).map(|_| ()))?;
                id
            }
            Some(id) => {
                let (old, clocks) = load_existing::<VillageRecord>(&self.conn, id, VILLAGE_MISSING)?;
                // The eligibility decision is the manager's: an instructor's
                // edit keeps it as it was.
                if record.eligible != old.eligible && !self.signed()?.role.allows(Permission::PlanRoutes) {
                    return Err(StoreError::Forbidden("تصمیم دربارهٔ واجد شرایط بودن روستا با مدیر مرکز است.".into()));
                }
                record.slot = old.slot;
                record.retired = old.retired;
                self.write(|w| w.save(id, &record, Some((&old, &clocks))).map(|_| ()))?;
                id
            }
        };
        self.village(id)
    }

    /// Puts a village on the van's route (a weekday and a week of the
    /// fortnight) or takes it off (`slot` None).
    pub fn set_village_slot(&mut self, id: Uuid, slot: Option<Slot>) -> Result<VillageView> {
        self.require(Permission::PlanRoutes)?;
        let slot = slot.map(|s| Slot::new(s.weekday, s.week)).transpose()?;
        self.write(|w| {
            let (old, clocks) = load_existing::<VillageRecord>(&w.tx, id, VILLAGE_MISSING)?;
            if slot.is_some() && (!old.eligible || old.retired) {
                return Err(StoreError::Conflict(
                    "این روستا واجد شرایط نیست یا کنار گذاشته شده است؛ نمی‌توان آن را در برنامهٔ بازدید گذاشت.".into(),
                ));
            }
            let new = VillageRecord { slot, ..old.clone() };
            w.save(id, &new, Some((&old, &clocks))).map(|_| ())
        })?;
        self.village(id)
    }

    /// Retires a village (no longer served; kept for its members and
    /// history) or brings it back. A retired village leaves the route.
    pub fn set_village_retired(&mut self, id: Uuid, retired: bool) -> Result<VillageView> {
        self.require(Permission::PlanRoutes)?;
        self.write(|w| {
            let (old, clocks) = load_existing::<VillageRecord>(&w.tx, id, VILLAGE_MISSING)?;
            let slot = if retired { None } else { old.slot };
            let new = VillageRecord { retired, slot, ..old.clone() };
            w.save(id, &new, Some((&old, &clocks))).map(|_| ())
        })?;
        self.village(id)
    }

    /// One village.
    pub fn village(&self, id: Uuid) -> Result<VillageView> {
        self.villages()?.into_iter().find(|v| v.id == id).ok_or_else(|| StoreError::NotFound(VILLAGE_MISSING.into()))
    }

    /// The van's visits of `from..=to` by the route, with the visits
    /// opened for them (and any visit opened off the plan), by day.
    pub fn route(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<RouteStop>> {
        self.signed()?;
        if to < from || (to - from) > Duration::days(62) {
            return Err(StoreError::InvalidInput("بازهٔ برنامه باید حداکثر دو ماه باشد.".into()));
        }
        let (plan, changes) = self.route_plan()?;
        let closed = &self.reference()?.policy.closed;
        let names: std::collections::HashMap<Uuid, String> =
            rows::villages_of(&self.conn, self.center_id()?)?.into_iter().map(|(id, v)| (id, v.name)).collect();
        let opened = self.visits_between(from, to)?;
        let mut stops = Vec::new();
        for village in plan.slots.keys() {
            for day in outreach::real_visits(*village, &plan, closed, &changes, from, to) {
                let visit = opened.iter().find(|v| v.village_id == *village && v.day == day);
                stops.push(RouteStop {
                    village_id: *village,
                    village_name: names.get(village).cloned().unwrap_or_default(),
                    day,
                    day_jalali: jalali(day),
                    visit_id: visit.map(|v| v.id),
                    closed: visit.is_some_and(|v| v.closed),
                });
            }
        }
        for v in &opened {
            if !stops.iter().any(|s| s.visit_id == Some(v.id)) {
                stops.push(RouteStop {
                    village_id: v.village_id,
                    village_name: v.village_name.clone(),
                    day: v.day,
                    day_jalali: v.day_jalali.clone(),
                    visit_id: Some(v.id),
                    closed: v.closed,
                });
            }
        }
        stops.sort_by(|a, b| (a.day, &a.village_name).cmp(&(b.day, &b.village_name)));
        Ok(stops)
    }

    /// The route as the domain reads it (the eligible, serving villages
    /// with a slot), and every visit change in log order.
    pub(super) fn route_plan(&self) -> Result<(RoutePlan, Vec<outreach::VisitChange>)> {
        let mut plan = RoutePlan::new(ROUTE_ANCHOR);
        for (id, v) in rows::villages_of(&self.conn, self.center_id()?)? {
            if let Some(slot) = v.slot.filter(|_| v.eligible && !v.retired) {
                plan.set_slot(id, slot);
            }
        }
        Ok((plan, rows::all_changes(&self.conn)?))
    }

    /// The village's next real visit after `day`.
    pub(super) fn next_visit(&self, village: Uuid, day: NaiveDate) -> Result<Option<NaiveDate>> {
        let (plan, changes) = self.route_plan()?;
        Ok(outreach::next_visit_after(village, day, &plan, &self.reference()?.policy.closed, &changes))
    }

    /// When a loan of `req` is due, and the village it is lent in: on a van
    /// visit, the village's next visit (by the center's loan days when the
    /// village has none within a year); else by the center's loan days.
    pub(crate) fn loan_due(&self, req: &CheckOutRequest) -> Result<(NaiveDate, Option<Uuid>)> {
        let today = self.today();
        let reference = self.reference()?;
        let by_days =
            reference.policy.closed.due_date(today, reference.policy.rule_for(self.id()?.center.kind).loan_days);
        let Some(visit) = req.visit_id else { return Ok((by_days, None)) };
        let (village, _, closed) = self.visit_facts(visit)?;
        if closed {
            return Err(StoreError::Conflict(
                "این بازدید بسته شده است؛ برای امانت تازه بازدید امروز را باز کنید.".into(),
            ));
        }
        Ok((self.next_visit(village, today)?.unwrap_or(by_days), Some(village)))
    }
}

fn view(id: Uuid, v: &VillageRecord, next: Option<NaiveDate>) -> VillageView {
    VillageView {
        id,
        name: v.name.clone(),
        district: v.district.clone(),
        eligible: v.eligible,
        ineligible_reason: v.ineligible_reason.clone(),
        distance_km: v.distance_km,
        school: v.school.clone(),
        contact_name: v.contact_name.clone(),
        contact_phone: v.contact_phone.clone(),
        children: v.children,
        slot: v.slot,
        retired: v.retired,
        next_visit_on: next,
        next_visit_jalali: next.map(jalali),
    }
}
