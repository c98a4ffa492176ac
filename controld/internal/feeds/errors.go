package feeds

// Switch reasons, as the history, the events and the metrics name them.
const (
	// ReasonFirst is the first feed to deliver becoming active.
	ReasonFirst = "first"
	// ReasonMissed is the active feed missing a segment.
	ReasonMissed = "missed"
	// ReasonPrefer is the operator's --prefer.
	ReasonPrefer = "prefer"
	// ReasonRemoved is the active feed no longer being one of the source's.
	ReasonRemoved = "removed"
)
