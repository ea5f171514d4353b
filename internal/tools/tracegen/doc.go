// Package tracegen generates seeded, reproducible synthetic per-minute
// request traces in the backtest's CSV format. They are held-out checks: the
// scaling policy is tuned on one real trace (NASA-HTTP, July 1995) and must
// hold its SLA on traffic it was never tuned on, so these traces stress what
// real traces do (daily and weekly cycles that differ from NASA's, holidays,
// bursts, outages with catch-up surges, 100x growth, flash crowds) without
// being fitted to any one of them. They are labelled synthetic and never
// replace a real trace.
//
// A trace is built in three steps. The expected rate per minute is the
// profile's shape (daily cycle in a local time zone, day types, day-to-day
// level, trend or growth) times its events (bursts, incidents, matches,
// flash crowds) times a persistent log-scale AR(1) wiggle. The rate is then
// scaled so that its mean is Profile.Daily requests per day. Finally each
// minute's count is drawn around that rate from an overdispersed count
// distribution (gamma-Poisson with a dispersion index of 1.5 to 3.5), so the
// counting noise is that of a service at the requested volume: it shrinks
// relative to the level as the volume grows, while the multiplicative
// components do not.
//
// Every random draw comes from a PCG generator seeded with Profile.Seed, one
// stream per component, so a profile and a seed always give the same trace,
// and no global random state is touched.
package tracegen
