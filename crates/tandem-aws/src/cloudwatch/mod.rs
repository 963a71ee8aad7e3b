//! CloudWatch kinds: the alarms the failover controller reads as health and
//! the dashboard that shows both regions.

kinds! {
    pub(crate) fn kinds;
    alarm => alarm::Alarm,
    dashboard => dashboard::Dashboard,
}
