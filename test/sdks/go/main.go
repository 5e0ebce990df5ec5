// Conformance program for the official Go SDK (github.com/team-telnyx/telnyx-go/v4)
// against a live Switchboard. It performs every operation shown in the seed document
// "Telnyx Voice Gather - Go" on real calls placed by Switchboard's virtual phones,
// verifies every webhook with the SDK's own client.Webhooks.Unwrap, exercises the
// seed's error classes, and prints ONE JSON line; exit 0 only if everything is ok.
//
// Env: SWITCHBOARD_URL (SDK base URL is ${SWITCHBOARD_URL}/v2), TELNYX_API_KEY,
// TELNYX_PUBLIC_KEY.
package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/team-telnyx/telnyx-go/v4"
	"github.com/team-telnyx/telnyx-go/v4/option"
)

const sdkModule = "github.com/team-telnyx/telnyx-go/v4"

type opResult struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

type errResult struct {
	Class  string `json:"class"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

type report struct {
	Language   string      `json:"language"`
	SDKVersion string      `json:"sdk_version"`
	Operations []opResult  `json:"operations"`
	Errors     []errResult `json:"errors"`
}

// event is one verified webhook.
type event struct {
	Type    string
	CCID    string
	Payload map[string]any
}

type inbox struct {
	mu         sync.Mutex
	cond       *sync.Cond
	events     []event
	verified   int
	unverified []string
}

func newInbox() *inbox {
	b := &inbox{}
	b.cond = sync.NewCond(&b.mu)
	return b
}

func (b *inbox) add(e event) {
	b.mu.Lock()
	b.events = append(b.events, e)
	b.verified++
	b.mu.Unlock()
	b.cond.Broadcast()
}

func (b *inbox) reject(reason string) {
	b.mu.Lock()
	b.unverified = append(b.unverified, reason)
	b.mu.Unlock()
}

// next removes and returns the first event of that type for that call, waiting up to timeout.
func (b *inbox) next(eventType, ccid string, timeout time.Duration) (event, error) {
	deadline := time.Now().Add(timeout)
	timer := time.AfterFunc(timeout, func() { b.cond.Broadcast() })
	defer timer.Stop()
	b.mu.Lock()
	defer b.mu.Unlock()
	for {
		for i, e := range b.events {
			if e.Type == eventType && (ccid == "" || e.CCID == ccid) {
				b.events = append(b.events[:i], b.events[i+1:]...)
				return e, nil
			}
		}
		if time.Now().After(deadline) {
			seen := []string{}
			for _, e := range b.events {
				if ccid == "" || e.CCID == ccid {
					seen = append(seen, e.Type)
				}
			}
			return event{}, fmt.Errorf("no %s within %s (pending for this call: %v)", eventType, timeout, seen)
		}
		b.cond.Wait()
	}
}

// drop forgets every pending event of a call.
func (b *inbox) drop(ccid string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	kept := b.events[:0]
	for _, e := range b.events {
		if e.CCID != ccid {
			kept = append(kept, e)
		}
	}
	b.events = kept
}

// tinyWAV is 0.4 s of a 440 Hz tone, 8 kHz mono 16-bit PCM.
func tinyWAV() []byte {
	const rate = 8000
	n := rate * 4 / 10
	data := make([]byte, n*2)
	for i := 0; i < n; i++ {
		v := int16(8000 * math.Sin(2*math.Pi*440*float64(i)/rate))
		binary.LittleEndian.PutUint16(data[i*2:], uint16(v))
	}
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+len(data)))
	b.WriteString("WAVEfmt ")
	binary.Write(&b, binary.LittleEndian, uint32(16))
	binary.Write(&b, binary.LittleEndian, uint16(1))
	binary.Write(&b, binary.LittleEndian, uint16(1))
	binary.Write(&b, binary.LittleEndian, uint32(rate))
	binary.Write(&b, binary.LittleEndian, uint32(rate*2))
	binary.Write(&b, binary.LittleEndian, uint16(2))
	binary.Write(&b, binary.LittleEndian, uint16(16))
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(len(data)))
	b.Write(data)
	return b.Bytes()
}

type runner struct {
	ctx    context.Context
	sbURL  string
	apiKey string
	client telnyx.Client
	box    *inbox
	hook   string // webhook URL
	wavURL string
	rep    *report
	seq    int
}

func (r *runner) op(name string, ok bool, detail string, args ...any) {
	r.rep.Operations = append(r.rep.Operations, opResult{Name: name, OK: ok, Detail: fmt.Sprintf(detail, args...)})
}

func (r *runner) errClass(class string, ok bool, detail string) {
	r.rep.Errors = append(r.rep.Errors, errResult{Class: class, OK: ok, Detail: detail})
}

// sb calls Switchboard's own testing API (not a Telnyx endpoint) with plain HTTP,
// waiting out a 429 from the low rate limit the runner configures.
func (r *runner) sb(method, path string, body any) (map[string]any, error) {
	for attempt := 0; ; attempt++ {
		var rd io.Reader
		if body != nil {
			raw, _ := json.Marshal(body)
			rd = bytes.NewReader(raw)
		}
		req, err := http.NewRequestWithContext(r.ctx, method, r.sbURL+path, rd)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+r.apiKey)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode == 429 && attempt < 20 {
			wait := 200 * time.Millisecond
			if ms, err := strconv.ParseFloat(res.Header.Get("retry-after-ms"), 64); err == nil {
				wait = time.Duration(ms) * time.Millisecond
			}
			time.Sleep(wait)
			continue
		}
		if res.StatusCode >= 300 {
			return nil, fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, raw)
		}
		var out map[string]any
		if err := json.Unmarshal(raw, &out); err != nil {
			return nil, err
		}
		data, _ := out["data"].(map[string]any)
		return data, nil
	}
}

type liveCall struct {
	id   string // virtual call id
	ccid string
}

const appNumber = "+15550100777"

// placeCall has a virtual phone call the app, and answers with the SDK.
func (r *runner) placeCall() (liveCall, error) {
	r.seq++
	from := fmt.Sprintf("+1555040%04d", 9000+r.seq)
	data, err := r.sb("POST", "/switchboard/v1/virtual_calls", map[string]any{"from": from, "to": appNumber})
	if err != nil {
		return liveCall{}, err
	}
	c := liveCall{id: fmt.Sprint(data["id"]), ccid: fmt.Sprint(data["call_control_id"])}
	if _, err := r.box.next("call.initiated", c.ccid, 10*time.Second); err != nil {
		return c, err
	}
	if _, err := r.client.Calls.Actions.Answer(r.ctx, c.ccid, telnyx.CallActionAnswerParams{}); err != nil {
		return c, fmt.Errorf("answer: %w", err)
	}
	if _, err := r.box.next("call.answered", c.ccid, 10*time.Second); err != nil {
		return c, err
	}
	return c, nil
}

func (r *runner) press(c liveCall, digits string) error {
	_, err := r.sb("POST", "/switchboard/v1/virtual_calls/"+c.id+"/actions/send_dtmf", map[string]any{"digits": digits, "duration_ms": 60, "gap_ms": 60})
	return err
}

// heard waits until the phone has heard count prompts end (its log's prompt_ended).
func (r *runner) heard(c liveCall, count int, timeout time.Duration) int {
	deadline := time.Now().Add(timeout)
	for {
		n := 0
		if data, err := r.sb("GET", "/switchboard/v1/virtual_calls/"+c.id, nil); err == nil {
			if log, ok := data["log"].([]any); ok {
				for _, e := range log {
					if m, ok := e.(map[string]any); ok && m["event"] == "prompt_ended" {
						n++
					}
				}
			}
		}
		if n >= count || time.Now().After(deadline) {
			return n
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func (r *runner) hangup(c liveCall) error {
	if _, err := r.client.Calls.Actions.Hangup(r.ctx, c.ccid, telnyx.CallActionHangupParams{}); err != nil {
		return err
	}
	_, err := r.box.next("call.hangup", c.ccid, 10*time.Second)
	r.box.drop(c.ccid)
	return err
}

func str(m map[string]any, k string) string {
	if v, ok := m[k]; ok && v != nil {
		return fmt.Sprint(v)
	}
	return ""
}

func rawOf(v interface{ RawJSON() string }) string {
	s := v.RawJSON()
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

func apiStatus(err error) (int, bool) {
	var apierr *telnyx.Error
	if errors.As(err, &apierr) {
		return apierr.StatusCode, true
	}
	return 0, false
}

func sdkVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, d := range info.Deps {
			if d.Path == sdkModule {
				return d.Version
			}
		}
	}
	return "unknown"
}

func main() {
	rep := &report{Language: "go", SDKVersion: sdkVersion(), Operations: []opResult{}, Errors: []errResult{}}
	code := run(rep)
	out, _ := json.Marshal(rep)
	fmt.Println(string(out))
	if code == 0 {
		for _, o := range rep.Operations {
			if !o.OK {
				code = 1
			}
		}
		for _, e := range rep.Errors {
			if !e.OK {
				code = 1
			}
		}
	}
	os.Exit(code)
}

func run(rep *report) int {
	sbURL := strings.TrimRight(os.Getenv("SWITCHBOARD_URL"), "/")
	apiKey := os.Getenv("TELNYX_API_KEY")
	publicKey := os.Getenv("TELNYX_PUBLIC_KEY")
	if sbURL == "" || apiKey == "" || publicKey == "" {
		rep.Operations = append(rep.Operations, opResult{Name: "setup", OK: false, Detail: "SWITCHBOARD_URL, TELNYX_API_KEY and TELNYX_PUBLIC_KEY are required"})
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	// Client setup as in the seed, pointed at Switchboard.
	client := telnyx.NewClient(
		option.WithAPIKey(apiKey),
		option.WithBaseURL(sbURL+"/v2"),
		option.WithPublicKey(publicKey),
	)
	r := &runner{ctx: ctx, sbURL: sbURL, apiKey: apiKey, client: client, box: newInbox(), rep: rep}

	// Webhook server: every delivery goes through the SDK's own verification.
	wav := tinyWAV()
	mux := http.NewServeMux()
	mux.HandleFunc("/audio.wav", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "audio/wav")
		w.Write(wav)
	})
	mux.HandleFunc("/webhooks", func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if _, err := client.Webhooks.Unwrap(body, req.Header); err != nil {
			r.box.reject(fmt.Sprintf("Unwrap: %v (body %.120s)", err, body))
			w.WriteHeader(200)
			return
		}
		var env struct {
			Data struct {
				EventType string         `json:"event_type"`
				Payload   map[string]any `json:"payload"`
			} `json:"data"`
		}
		if err := json.Unmarshal(body, &env); err != nil {
			r.box.reject("bad JSON: " + err.Error())
		} else {
			r.box.add(event{Type: env.Data.EventType, CCID: str(env.Data.Payload, "call_control_id"), Payload: env.Data.Payload})
		}
		w.WriteHeader(200)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		r.op("setup", false, "listen: %v", err)
		return 2
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()
	r.hook = base + "/webhooks"
	r.wavURL = base + "/audio.wav"

	// Application via the SDK, and a number routed to it.
	app, err := client.CallControlApplications.New(ctx, telnyx.CallControlApplicationNewParams{
		ApplicationName: "go-sdk-conformance",
		WebhookEventURL: r.hook,
	})
	if err != nil {
		r.op("call_control_applications.create", false, "%v", err)
		return 1
	}
	r.op("call_control_applications.create", app.Data.ID != "", "id %s", app.Data.ID)
	if _, err := r.sb("POST", "/switchboard/v1/numbers", map[string]any{"number": appNumber, "connection_id": app.Data.ID}); err != nil {
		r.op("route number", false, "%v", err)
		return 1
	}

	r.gather()
	r.gatherStop()
	r.gatherUsingAudio()
	r.gatherUsingSpeak()
	r.gatherUsingAI()
	r.assistant()
	r.webhookVerification()
	r.errorClasses(sbURL, apiKey, publicKey)
	return 0
}

// Gather: seed parameters CallActionGatherParams{}; the phone presses 12#.
func (r *runner) gather() {
	name := "calls.actions.gather"
	c, err := r.placeCall()
	if err != nil {
		r.op(name, false, "call: %v", err)
		return
	}
	defer r.hangup(c)
	res, err := r.client.Calls.Actions.Gather(r.ctx, c.ccid, telnyx.CallActionGatherParams{})
	if err != nil {
		r.op(name, false, "%v", err)
		return
	}
	if err := r.press(c, "12#"); err != nil {
		r.op(name, false, "send_dtmf: %v", err)
		return
	}
	d1, err1 := r.box.next("call.dtmf.received", c.ccid, 10*time.Second)
	ended, err := r.box.next("call.gather.ended", c.ccid, 15*time.Second)
	if err != nil || err1 != nil {
		r.op(name, false, "%v %v", err1, err)
		return
	}
	ok := str(ended.Payload, "status") == "valid" && str(ended.Payload, "digits") == "12" && str(d1.Payload, "digit") == "1"
	r.op(name, ok, "response %s; call.dtmf.received digit=%s; call.gather.ended status=%s digits=%q",
		rawOf(res), str(d1.Payload, "digit"), str(ended.Payload, "status"), str(ended.Payload, "digits"))
}

// Gather stop: seed parameters CallActionStopGatherParams{} on a running gather.
func (r *runner) gatherStop() {
	name := "calls.actions.stop_gather"
	c, err := r.placeCall()
	if err != nil {
		r.op(name, false, "call: %v", err)
		return
	}
	defer r.hangup(c)
	if _, err := r.client.Calls.Actions.Gather(r.ctx, c.ccid, telnyx.CallActionGatherParams{}); err != nil {
		r.op(name, false, "gather: %v", err)
		return
	}
	if err := r.press(c, "5"); err != nil {
		r.op(name, false, "send_dtmf: %v", err)
		return
	}
	if _, err := r.box.next("call.dtmf.received", c.ccid, 10*time.Second); err != nil {
		r.op(name, false, "%v", err)
		return
	}
	res, err := r.client.Calls.Actions.StopGather(r.ctx, c.ccid, telnyx.CallActionStopGatherParams{})
	if err != nil {
		r.op(name, false, "%v", err)
		return
	}
	ended, err := r.box.next("call.gather.ended", c.ccid, 10*time.Second)
	if err != nil {
		r.op(name, false, "%v", err)
		return
	}
	ok := str(ended.Payload, "status") == "cancelled" && str(ended.Payload, "digits") == "5"
	r.op(name, ok, "response %s; call.gather.ended status=%s digits=%q", rawOf(res), str(ended.Payload, "status"), str(ended.Payload, "digits"))
}

// Gather using audio: the seed's empty parameters, then with audio_url (a WAV this program serves)
// to see call.playback.started/ended.
func (r *runner) gatherUsingAudio() {
	name := "calls.actions.gather_using_audio"
	c, err := r.placeCall()
	if err != nil {
		r.op(name, false, "call: %v", err)
		return
	}
	defer r.hangup(c)
	res, err := r.client.Calls.Actions.GatherUsingAudio(r.ctx, c.ccid, telnyx.CallActionGatherUsingAudioParams{})
	if err != nil {
		r.op(name+" (seed params {})", false, "%v", err)
	} else if err := r.press(c, "34#"); err != nil {
		r.op(name+" (seed params {})", false, "send_dtmf: %v", err)
	} else {
		ended, err := r.box.next("call.gather.ended", c.ccid, 15*time.Second)
		if err != nil {
			r.op(name+" (seed params {})", false, "%v", err)
		} else {
			r.op(name+" (seed params {})", str(ended.Payload, "status") == "valid" && str(ended.Payload, "digits") == "34",
				"response %s; call.gather.ended status=%s digits=%q", rawOf(res), str(ended.Payload, "status"), str(ended.Payload, "digits"))
		}
	}
	r.box.drop(c.ccid)

	res, err = r.client.Calls.Actions.GatherUsingAudio(r.ctx, c.ccid, telnyx.CallActionGatherUsingAudioParams{
		AudioURL: telnyx.String(r.wavURL),
	})
	if err != nil {
		r.op(name+" (audio_url)", false, "%v", err)
		return
	}
	started, err := r.box.next("call.playback.started", c.ccid, 10*time.Second)
	if err != nil {
		r.op(name+" (audio_url)", false, "%v", err)
		return
	}
	pbEnded, err := r.box.next("call.playback.ended", c.ccid, 10*time.Second)
	if err != nil {
		r.op(name+" (audio_url)", false, "%v", err)
		return
	}
	if err := r.press(c, "9#"); err != nil {
		r.op(name+" (audio_url)", false, "send_dtmf: %v", err)
		return
	}
	ended, err := r.box.next("call.gather.ended", c.ccid, 15*time.Second)
	if err != nil {
		r.op(name+" (audio_url)", false, "%v", err)
		return
	}
	ok := str(started.Payload, "media_url") == r.wavURL && str(pbEnded.Payload, "status") == "completed" &&
		str(ended.Payload, "status") == "valid" && str(ended.Payload, "digits") == "9"
	r.op(name+" (audio_url)", ok, "response %s; call.playback.started media_url=%s; call.playback.ended status=%s; call.gather.ended status=%s digits=%q",
		rawOf(res), str(started.Payload, "media_url"), str(pbEnded.Payload, "status"), str(ended.Payload, "status"), str(ended.Payload, "digits"))
}

// Gather using speak: seed parameters Payload "say this on call", Voice "male".
func (r *runner) gatherUsingSpeak() {
	name := "calls.actions.gather_using_speak"
	c, err := r.placeCall()
	if err != nil {
		r.op(name, false, "call: %v", err)
		return
	}
	defer r.hangup(c)
	res, err := r.client.Calls.Actions.GatherUsingSpeak(r.ctx, c.ccid, telnyx.CallActionGatherUsingSpeakParams{
		Payload: "say this on call",
		Voice:   "male",
	})
	if err != nil {
		r.op(name, false, "%v", err)
		return
	}
	heard := r.heard(c, 1, 15*time.Second)
	if err := r.press(c, "7#"); err != nil {
		r.op(name, false, "send_dtmf: %v", err)
		return
	}
	ended, err := r.box.next("call.gather.ended", c.ccid, 15*time.Second)
	if err != nil {
		r.op(name, false, "%v", err)
		return
	}
	ok := heard >= 1 && str(ended.Payload, "status") == "valid" && str(ended.Payload, "digits") == "7"
	r.op(name, ok, "response %s; prompts heard=%d; call.gather.ended status=%s digits=%q", rawOf(res), heard, str(ended.Payload, "status"), str(ended.Payload, "digits"))
}

var accountForm = map[string]any{
	"type": "object",
	"properties": map[string]any{
		"account_number": map[string]any{"type": "integer", "description": "your account number"},
		"confirmed":      map[string]any{"type": "boolean", "description": "whether you confirm the payment"},
	},
	"required": []any{"account_number", "confirmed"},
}

// Gather using AI: the seed's literal parameters ({"properties":"bar","required":"bar","type":"bar"}
// is not a JSON Schema: Switchboard answers 422, recorded as the 422 error class), then a real
// schema, answered by keypad, ending with call.ai_gather.ended and call.conversation.ended.
func (r *runner) gatherUsingAI() {
	name := "calls.actions.gather_using_ai"
	c, err := r.placeCall()
	if err != nil {
		r.op(name, false, "call: %v", err)
		return
	}
	defer r.hangup(c)
	_, err = r.client.Calls.Actions.GatherUsingAI(r.ctx, c.ccid, telnyx.CallActionGatherUsingAIParams{
		Parameters: map[string]any{
			"properties": "bar",
			"required":   "bar",
			"type":       "bar",
		},
	})
	status, isAPI := apiStatus(err)
	r.errClass("422 UnprocessableEntity (gather_using_ai with the seed's literal parameters)", isAPI && status == 422, fmt.Sprintf("%v", err))

	res, err := r.client.Calls.Actions.GatherUsingAI(r.ctx, c.ccid, telnyx.CallActionGatherUsingAIParams{
		Parameters: accountForm,
	})
	if err != nil {
		r.op(name, false, "%v", err)
		return
	}
	heard := r.heard(c, 1, 15*time.Second)
	if err := r.press(c, "4271#"); err != nil {
		r.op(name, false, "send_dtmf: %v", err)
		return
	}
	ended, err := r.box.next("call.ai_gather.ended", c.ccid, 30*time.Second)
	if err != nil {
		r.op(name, false, "prompts heard=%d; %v", heard, err)
		return
	}
	conv, err := r.box.next("call.conversation.ended", c.ccid, 15*time.Second)
	if err != nil {
		r.op(name, false, "%v", err)
		return
	}
	result, _ := json.Marshal(ended.Payload["result"])
	ok := str(ended.Payload, "status") == "valid" && strings.Contains(string(result), "4271")
	r.op(name, ok, "response %s; call.ai_gather.ended status=%s result=%s; call.conversation.ended llm_model=%s",
		rawOf(res), str(ended.Payload, "status"), result, str(conv.Payload, "llm_model"))
}

// Start / add messages / stop AI assistant, each with the seed's empty parameters.
func (r *runner) assistant() {
	c, err := r.placeCall()
	if err != nil {
		r.op("calls.actions.start_ai_assistant", false, "call: %v", err)
		return
	}
	defer r.hangup(c)
	start, err := r.client.Calls.Actions.StartAIAssistant(r.ctx, c.ccid, telnyx.CallActionStartAIAssistantParams{})
	if err != nil {
		r.op("calls.actions.start_ai_assistant", false, "%v", err)
	} else {
		r.op("calls.actions.start_ai_assistant", strings.Contains(start.RawJSON(), "conversation_id"), "response %s", rawOf(start))
	}
	add, err := r.client.Calls.Actions.AddAIAssistantMessages(r.ctx, c.ccid, telnyx.CallActionAddAIAssistantMessagesParams{})
	if err != nil {
		r.op("calls.actions.add_ai_assistant_messages", false, "%v", err)
	} else {
		r.op("calls.actions.add_ai_assistant_messages", true, "response %s", rawOf(add))
	}
	stop, err := r.client.Calls.Actions.StopAIAssistant(r.ctx, c.ccid, telnyx.CallActionStopAIAssistantParams{})
	if err != nil {
		r.op("calls.actions.stop_ai_assistant", false, "%v", err)
		return
	}
	conv, err := r.box.next("call.conversation.ended", c.ccid, 15*time.Second)
	if err != nil {
		r.op("calls.actions.stop_ai_assistant", false, "response %s; %v", rawOf(stop), err)
		return
	}
	r.op("calls.actions.stop_ai_assistant", str(conv.Payload, "reason") == "stopped", "response %s; call.conversation.ended reason=%s", rawOf(stop), str(conv.Payload, "reason"))
}

// Every delivery so far went through client.Webhooks.Unwrap; a tampered one must be refused.
func (r *runner) webhookVerification() {
	r.box.mu.Lock()
	verified, rejected := r.box.verified, append([]string(nil), r.box.unverified...)
	r.box.mu.Unlock()
	h := http.Header{}
	h.Set("telnyx-timestamp", strconv.FormatInt(time.Now().Unix(), 10))
	h.Set("telnyx-signature-ed25519", strings.Repeat("A", 86)+"==")
	_, tamperErr := r.client.Webhooks.Unwrap([]byte(`{"data":{"event_type":"call.hangup"}}`), h)
	r.op("webhooks.unwrap", verified > 0 && len(rejected) == 0 && tamperErr != nil,
		"verified=%d rejected=%d %v; forged signature refused: %v", verified, len(rejected), rejected, tamperErr)
}

func (r *runner) errorClasses(sbURL, apiKey, publicKey string) {
	// Connection error: nothing listens there.
	dead := telnyx.NewClient(option.WithAPIKey(apiKey), option.WithBaseURL("http://127.0.0.1:1/v2"), option.WithMaxRetries(0))
	_, err := dead.Calls.Actions.Gather(r.ctx, "v3:nowhere", telnyx.CallActionGatherParams{})
	_, isAPI := apiStatus(err)
	r.errClass("connection", err != nil && !isAPI, fmt.Sprintf("%v", err))

	// 401: a wrong key.
	wrong := telnyx.NewClient(option.WithAPIKey("KEYwrong"), option.WithBaseURL(sbURL+"/v2"), option.WithMaxRetries(0))
	_, err = wrong.Calls.Actions.Gather(r.ctx, "v3:nowhere", telnyx.CallActionGatherParams{})
	status, isAPI := apiStatus(err)
	r.errClass("401 Authentication", isAPI && status == 401, fmt.Sprintf("%v", err))

	// 404: no such application. (An unknown call_control_id is 422 90015, as on Telnyx.)
	_, err = r.client.CallControlApplications.Get(r.ctx, "1000000000000000001")
	status, isAPI = apiStatus(err)
	r.errClass("404 NotFound", isAPI && status == 404, fmt.Sprintf("%v", err))

	// 429: a burst over the rate limit with retries off.
	burst := telnyx.NewClient(option.WithAPIKey(apiKey), option.WithBaseURL(sbURL+"/v2"), option.WithMaxRetries(0))
	var wg sync.WaitGroup
	var mu sync.Mutex
	got429, others := 0, map[string]int{}
	for i := 0; i < 60; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := burst.Calls.Actions.StopGather(r.ctx, "v3:no-such-call", telnyx.CallActionStopGatherParams{})
			status, isAPI := apiStatus(err)
			mu.Lock()
			defer mu.Unlock()
			if isAPI && status == 429 {
				got429++
			} else {
				others[fmt.Sprint(status)]++
			}
		}()
	}
	wg.Wait()
	r.errClass("429 RateLimit", got429 > 0, fmt.Sprintf("429 x%d, others %v", got429, others))
}
