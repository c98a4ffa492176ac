// Package feeds chooses, for a source fed by several edges (two gateways on
// the camera's LAN, or one camera pushed to two edges), which feed's
// segments the control node lists live and records, and fails over to
// another when the active one stops delivering.
//
// Every feed uploads every segment (a hot standby): a cold or warm standby
// would put a wake-up and a segment's upload on the switch's critical path,
// which does not fit in one target duration. The active feed's segments go
// on as before; the others' newest few are held here (the shadow), unlisted
// and unrecorded. When the active feed's next segment is overdue and a
// standby holds media past the active feed's end, the selector switches:
// the standby's held segments from where the active feed's media ended are
// listed and recorded at once (Lister), the live playlist marks the switch
// with a discontinuity, and the former active feed is fenced: its uploads,
// late ones included, are held like any standby's until it is chosen again
// on a later failure or by the operator's --prefer. There is no switch
// back on its own, so two healthy feeds never flap.
//
// Two feeds are two encoders on two clocks. Segment times are put on the
// control node's clock per feed (the smallest recent gap between a
// segment's stated end and its arrival), and the standby's first listed
// segment is the first that starts no earlier than half its length before
// the active feed's media ended: media neither repeats nor skips more than
// half a segment.
package feeds
