module switchboard.local/sdks/go

go 1.22

require github.com/team-telnyx/telnyx-go/v4 v4.83.0
