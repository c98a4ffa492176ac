package hls

// MaxVariants bounds the variant streams of a multivariant playlist, parsed
// or rendered. An ABR ladder has three to eight rungs; 32 leaves room while
// keeping what one pushed playlist can make lmx hold and probe small.
const MaxVariants = 32

// MaxRenditions bounds the EXT-X-MEDIA renditions of a multivariant
// playlist: a few audio languages and subtitle tracks per group.
const MaxRenditions = 64

// Rendition types of EXT-X-MEDIA (RFC 8216 4.3.4.1, TYPE).
const (
	// RenditionAudio is TYPE=AUDIO.
	RenditionAudio = "AUDIO"
	// RenditionVideo is TYPE=VIDEO.
	RenditionVideo = "VIDEO"
	// RenditionSubtitles is TYPE=SUBTITLES.
	RenditionSubtitles = "SUBTITLES"
	// RenditionClosedCaptions is TYPE=CLOSED-CAPTIONS.
	RenditionClosedCaptions = "CLOSED-CAPTIONS"
)

// MultivariantPlaylist is a parsed multivariant ("master") playlist
// (RFC 8216 4.3.4), as ffmpeg's hls muxer writes it with -master_pl_name.
type MultivariantPlaylist struct {
	// Version is EXT-X-VERSION, 0 when absent.
	Version int
	// IndependentSegments is true when EXT-X-INDEPENDENT-SEGMENTS is
	// present.
	IndependentSegments bool
	// Renditions are the EXT-X-MEDIA tags, in the order written.
	Renditions []Rendition
	// Variants are the EXT-X-STREAM-INF variant streams, in the order
	// written. Empty is valid: ffmpeg writes no variant when it knows no
	// bitrate (no -b:v), and lmx then probes the segments instead.
	Variants []Variant
}

// Variant is one EXT-X-STREAM-INF tag and the URI line after it.
type Variant struct {
	// Bandwidth is BANDWIDTH, the peak bit rate in bits per second. It is
	// required and positive.
	Bandwidth int
	// AverageBandwidth is AVERAGE-BANDWIDTH in bits per second, 0 when
	// unknown.
	AverageBandwidth int
	// Codecs is CODECS as written: RFC 6381 codec strings joined by
	// commas, such as "avc1.64001f,mp4a.40.2"; "" when unknown.
	Codecs string
	// Width and Height are RESOLUTION in pixels, both 0 when unknown.
	Width, Height int
	// FrameRate is FRAME-RATE in frames per second, 0 when unknown. It is
	// written with three decimals, as RFC 8216 asks.
	FrameRate float64
	// Audio, Video and Subtitles are the AUDIO, VIDEO and SUBTITLES group
	// IDs, each naming EXT-X-MEDIA renditions of that type; "" when absent.
	Audio, Video, Subtitles string
	// ClosedCaptions is the CLOSED-CAPTIONS group ID, "" when absent.
	ClosedCaptions string
	// NoClosedCaptions is true for CLOSED-CAPTIONS=NONE: the variant has
	// no captions at all, which differs from not saying.
	NoClosedCaptions bool
	// URI is the variant's media playlist URI as written.
	URI string
	// Line is the 1-based line of the EXT-X-STREAM-INF tag (0 for a
	// variant built rather than parsed).
	Line int
}

// Rendition is one EXT-X-MEDIA tag: an alternative rendition in a group
// that variants refer to by its GroupID.
type Rendition struct {
	// Type is TYPE: RenditionAudio, RenditionVideo, RenditionSubtitles or
	// RenditionClosedCaptions.
	Type string
	// GroupID is GROUP-ID, the group the rendition belongs to.
	GroupID string
	// Name is NAME, unique within its group.
	Name string
	// Language is LANGUAGE (an RFC 5646 tag), "" when absent.
	Language string
	// Default is DEFAULT=YES.
	Default bool
	// Autoselect is AUTOSELECT=YES.
	Autoselect bool
	// Forced is FORCED=YES (subtitles only).
	Forced bool
	// InstreamID is INSTREAM-ID (closed captions only: "CC1".."CC4",
	// "SERVICE1".."SERVICE63").
	InstreamID string
	// Channels is CHANNELS (audio only), such as "2", "" when absent.
	Channels string
	// URI is URI, "" when the rendition is carried in the variant itself
	// (closed captions never have one).
	URI string
	// Line is the 1-based line of the tag (0 for a rendition built rather
	// than parsed).
	Line int
}
