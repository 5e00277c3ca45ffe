// Package fakeclock is a rendezvous.Clock for tests: it shows a fixed time
// that moves only when told to, so TTLs, expiry and timers are tested
// without sleeping.
package fakeclock
