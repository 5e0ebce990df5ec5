package switchboard.conformance;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.telnyx.sdk.ApiClient;
import com.telnyx.sdk.ApiException;
import com.telnyx.sdk.api.CallCommandsApi;
import com.telnyx.sdk.api.CallControlApplicationsApi;
import com.telnyx.sdk.api.RecordingsCommandsApi;
import com.telnyx.sdk.model.AnswerRequest;
import com.telnyx.sdk.model.CallControlCommandResponse;
import com.telnyx.sdk.model.CreateCallControlApplicationRequest;
import com.telnyx.sdk.model.GatherUsingAudioRequest;
import com.telnyx.sdk.model.GatherUsingSpeakRequest;
import com.telnyx.sdk.model.HangupRequest;
import com.telnyx.sdk.model.StopGatherRequest;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import javax.ws.rs.core.GenericType;

/**
 * Conformance program: the operations of the seed "Telnyx Voice Gather – Java" against a live Switchboard,
 * with the official Telnyx Java SDK from Maven Central, on real calls placed by Switchboard's virtual phones.
 *
 * <p>The only official Telnyx Java SDK that Maven Central serves here is {@code com.telnyx.sdk:telnyx:2.8.0}
 * (OpenAPI-generated, Jersey). The seed's SDK ({@code TelnyxOkHttpClient}, {@code client.calls().actions()}) is
 * the later Stainless one, which is not served. Where 2.8.0 has a typed method for a seed operation it is used
 * ({@code CallCommandsApi.callGatherUsingSpeak}, ...); where it has none ({@code gather}, {@code gather_using_ai},
 * {@code ai_assistant_*}), the SDK's own transport ({@code ApiClient.invokeAPI}: base path, bearer auth, JSON,
 * error mapping to {@code ApiException}) sends the seed's request. 2.8.0 has no webhook verification, so the
 * Telnyx Ed25519 scheme ({@code telnyx-timestamp|body}) is verified with the JDK's Ed25519.
 *
 * <p>Prints one JSON line {"language":"java","sdk_version":..,"operations":[..],"errors":[..]}; exit 0 only if all ok.
 */
public final class Conformance {
  static final String SDK_VERSION = "com.telnyx.sdk:telnyx:2.8.0";
  static final String CALLER = "+15550001111";
  static final String APP_NUMBER = "+15550002222";
  static final long WAIT_MS = 15_000;
  static final ObjectMapper JSON = new ObjectMapper();

  static String baseUrl;
  static String apiKey;
  static PublicKey webhookKey;
  static final List<Map<String, Object>> operations = new ArrayList<>();
  static final List<Map<String, Object>> errors = new ArrayList<>();
  static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  // ------------------------------------------------------------------------------------------------
  // Webhook receiver

  record Event(String type, Map<String, Object> payload, String raw, String timestamp, String signature) {}

  static final class Events {
    final List<Event> items = new ArrayList<>();
    final List<String> failed = new ArrayList<>();
    int verified = 0;

    synchronized void add(Event e) {
      items.add(e);
      notifyAll();
    }

    synchronized int mark() {
      return items.size();
    }

    synchronized Event waitFor(String type, String ccid, int since, long timeoutMs) throws InterruptedException {
      long deadline = System.currentTimeMillis() + timeoutMs;
      while (true) {
        for (int i = since; i < items.size(); i++) {
          Event e = items.get(i);
          if (e.type.equals(type) && (ccid == null || ccid.equals(e.payload.get("call_control_id")))) return e;
        }
        long left = deadline - System.currentTimeMillis();
        if (left <= 0) throw new AssertionError("no " + type + " webhook for " + ccid + " within " + timeoutMs + " ms; got " + typesSince(since));
        wait(left);
      }
    }

    synchronized List<Event> all(String type, String ccid, int since) {
      List<Event> out = new ArrayList<>();
      for (int i = since; i < items.size(); i++) {
        Event e = items.get(i);
        if (e.type.equals(type) && ccid.equals(e.payload.get("call_control_id"))) out.add(e);
      }
      return out;
    }

    synchronized List<String> typesSince(int since) {
      List<String> out = new ArrayList<>();
      for (int i = since; i < items.size(); i++) out.add(items.get(i).type);
      return out;
    }
  }

  static final Events events = new Events();
  static final byte[] WAV = toneWav(0.6);

  /** Ed25519 over "timestamp|body", as Telnyx signs (telnyx-signature-ed25519, telnyx-timestamp); 300 s tolerance. */
  static void verify(String raw, String timestamp, String signature) throws Exception {
    if (timestamp == null) throw new SecurityException("Missing required header: Telnyx-Timestamp");
    if (signature == null) throw new SecurityException("Missing required header: Telnyx-Signature-Ed25519");
    long ts = Long.parseLong(timestamp);
    if (Math.abs(System.currentTimeMillis() / 1000 - ts) > 300) throw new SecurityException("Webhook timestamp too old or too new: " + timestamp);
    byte[] sig = Base64.getDecoder().decode(signature);
    if (sig.length != 64) throw new SecurityException("Invalid signature format");
    Signature v = Signature.getInstance("Ed25519");
    v.initVerify(webhookKey);
    v.update((timestamp + "|" + raw).getBytes(StandardCharsets.UTF_8));
    if (!v.verify(sig)) throw new SecurityException("Signature verification failed: signature does not match payload");
  }

  static PublicKey ed25519Key(String base64) throws Exception {
    byte[] raw = Base64.getDecoder().decode(base64);
    if (raw.length != 32) throw new IllegalArgumentException("public key: expected 32 bytes, got " + raw.length);
    byte[] prefix = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};
    byte[] der = new byte[prefix.length + raw.length];
    System.arraycopy(prefix, 0, der, 0, prefix.length);
    System.arraycopy(raw, 0, der, prefix.length, raw.length);
    return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(der));
  }

  @SuppressWarnings("unchecked")
  static void handle(HttpExchange ex) throws IOException {
    try {
      if (ex.getRequestMethod().equals("GET") && ex.getRequestURI().getPath().startsWith("/prompt.wav")) {
        ex.getResponseHeaders().set("content-type", "audio/wav");
        ex.sendResponseHeaders(200, WAV.length);
        ex.getResponseBody().write(WAV);
        return;
      }
      if (!ex.getRequestMethod().equals("POST")) {
        ex.sendResponseHeaders(404, -1);
        return;
      }
      String raw = new String(readAll(ex.getRequestBody()), StandardCharsets.UTF_8);
      String ts = ex.getRequestHeaders().getFirst("telnyx-timestamp");
      String sig = ex.getRequestHeaders().getFirst("telnyx-signature-ed25519");
      try {
        verify(raw, ts, sig);
      } catch (Exception e) {
        synchronized (events) {
          events.failed.add(e.getClass().getSimpleName() + ": " + e.getMessage());
        }
        byte[] body = "Invalid signature".getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(400, body.length);
        ex.getResponseBody().write(body);
        return;
      }
      Map<String, Object> body = JSON.readValue(raw, Map.class);
      Map<String, Object> data = (Map<String, Object>) body.getOrDefault("data", Map.of());
      Map<String, Object> payload = (Map<String, Object>) data.getOrDefault("payload", Map.of());
      synchronized (events) {
        events.verified++;
      }
      events.add(new Event(String.valueOf(data.get("event_type")), payload == null ? Map.of() : payload, raw, ts, sig));
      byte[] ok = "OK".getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(200, ok.length);
      ex.getResponseBody().write(ok);
    } finally {
      ex.close();
    }
  }

  static byte[] readAll(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    in.transferTo(out);
    return out.toByteArray();
  }

  static byte[] toneWav(double seconds) {
    int rate = 8000;
    int n = (int) (seconds * rate);
    byte[] wav = new byte[44 + n * 2];
    java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(wav).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    b.put("RIFF".getBytes()).putInt(36 + n * 2).put("WAVE".getBytes()).put("fmt ".getBytes()).putInt(16)
        .putShort((short) 1).putShort((short) 1).putInt(rate).putInt(rate * 2).putShort((short) 2).putShort((short) 16)
        .put("data".getBytes()).putInt(n * 2);
    for (int i = 0; i < n; i++) b.putShort((short) (8000 * Math.sin(2 * Math.PI * 440 * i / rate)));
    return wav;
  }

  // ------------------------------------------------------------------------------------------------
  // Switchboard testing API (plain HTTP, not a Telnyx endpoint)

  @SuppressWarnings("unchecked")
  static Map<String, Object> sb(String method, String path, Object body) throws Exception {
    HttpRequest.Builder rb = HttpRequest.newBuilder(URI.create(baseUrl + path)).timeout(Duration.ofSeconds(15))
        .header("authorization", "Bearer " + apiKey).header("content-type", "application/json");
    rb.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
    HttpResponse<String> res = http.send(rb.build(), HttpResponse.BodyHandlers.ofString());
    if (res.statusCode() / 100 != 2) throw new AssertionError(method + " " + path + " → " + res.statusCode() + " " + res.body());
    Map<String, Object> parsed = JSON.readValue(res.body(), Map.class);
    Object data = parsed.get("data");
    return data instanceof Map ? (Map<String, Object>) data : parsed;
  }

  @SuppressWarnings("unchecked")
  static List<Map<String, Object>> phoneLog(String callId) throws Exception {
    Object log = sb("GET", "/switchboard/v1/virtual_calls/" + callId, null).get("log");
    return log instanceof List ? (List<Map<String, Object>>) log : List.of();
  }

  static long count(List<Map<String, Object>> log, String event) {
    return log.stream().filter(e -> event.equals(e.get("event"))).count();
  }

  static List<Map<String, Object>> waitPhone(String callId, Predicate<List<Map<String, Object>>> pred, String what) throws Exception {
    long deadline = System.currentTimeMillis() + WAIT_MS;
    while (true) {
      List<Map<String, Object>> log = phoneLog(callId);
      if (pred.test(log)) return log;
      if (System.currentTimeMillis() > deadline) throw new AssertionError("the phone never " + what);
      Thread.sleep(100);
    }
  }

  static void press(String callId, String digits) throws Exception {
    sb("POST", "/switchboard/v1/virtual_calls/" + callId + "/actions/send_dtmf", Map.of("digits", digits, "duration_ms", 80, "gap_ms", 80));
  }

  // ------------------------------------------------------------------------------------------------
  // Report helpers

  interface Op {
    String run() throws Exception;
  }

  static void record(String name, Op op) {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("name", name);
    try {
      r.put("detail", op.run());
      r.put("ok", true);
    } catch (Throwable e) {
      r.put("ok", false);
      r.put("detail", describe(e));
    }
    operations.add(r);
    System.err.println(((Boolean) r.get("ok") ? "ok   " : "FAIL ") + name + ": " + r.get("detail"));
  }

  static String describe(Throwable e) {
    if (e instanceof ApiException a) return "ApiException " + a.getCode() + ": " + truncate(a.getResponseBody() != null ? a.getResponseBody() : String.valueOf(a.getMessage()));
    return e.getClass().getSimpleName() + ": " + truncate(String.valueOf(e.getMessage()));
  }

  static String truncate(String s) {
    return s.length() > 400 ? s.substring(0, 400) + "…" : s;
  }

  static void check(boolean cond, String msg) {
    if (!cond) throw new AssertionError(msg);
  }

  /** One seed error class: `fn` must fail with ApiException of `status` (0 = no HTTP response, a connection error). */
  static void expect(String cls, Op fn, int status) {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("class", cls);
    try {
      fn.run();
      r.put("ok", false);
      r.put("detail", "no error raised");
    } catch (ApiException e) {
      boolean connection = status == 0 && e.getCode() == 0 && e.getCause() != null;
      r.put("ok", status == 0 ? connection : e.getCode() == status);
      r.put("detail", "ApiException code=" + e.getCode()
          + (e.getCause() != null ? " cause=" + e.getCause().getClass().getSimpleName() : "")
          + ": " + truncate(e.getResponseBody() != null ? e.getResponseBody() : String.valueOf(e.getMessage())));
    } catch (javax.ws.rs.ProcessingException e) {
      // 2.8.0 does not wrap transport failures: Jersey's unchecked ProcessingException escapes the API method.
      r.put("ok", status == 0 && e.getCause() instanceof java.net.ConnectException);
      r.put("detail", "javax.ws.rs.ProcessingException (not an ApiException): " + truncate(String.valueOf(e.getMessage())));
    } catch (Throwable e) {
      r.put("ok", false);
      r.put("detail", "got " + describe(e));
    }
    errors.add(r);
    System.err.println(((Boolean) r.get("ok") ? "ok   " : "FAIL ") + "error " + cls + ": " + r.get("detail"));
  }

  // ------------------------------------------------------------------------------------------------
  // SDK helpers

  static ApiClient client(String base, String key, int readTimeoutMs) {
    ApiClient c = new ApiClient();
    c.setBasePath(base);
    c.setBearerToken(key);
    c.setConnectTimeout(5_000);
    c.setReadTimeout(readTimeoutMs);
    // 2.8.0's generated enums carry literal quotes ("\"Latency\"") and throw on the real value ("Latency") when a
    // response is read; read such values as null instead of failing the whole response.
    c.getJSON().getMapper().configure(com.fasterxml.jackson.databind.DeserializationFeature.READ_UNKNOWN_ENUM_VALUES_AS_NULL, true);
    return c;
  }

  /**
   * A seed operation that 2.8.0 has no typed method for: sent through the SDK's own transport
   * (ApiClient.invokeAPI with its bearerAuth), POST /calls/{id}/actions/{action} with a JSON body.
   */
  static Map<String, Object> action(ApiClient c, String ccid, String action, Map<String, Object> body) throws ApiException {
    String path = "/calls/" + c.escapeString(ccid) + "/actions/" + action;
    return c.<Map<String, Object>>invokeAPI("CallCommandsApi." + action, path, "POST", new ArrayList<>(), body,
        new HashMap<>(), new HashMap<>(), new HashMap<>(), "application/json", "application/json",
        new String[] {"bearerAuth"}, new GenericType<Map<String, Object>>() {}, false).getData();
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> dataOf(Map<String, Object> response) {
    Object d = response == null ? null : response.get("data");
    check(d instanceof Map, "no data object in " + response);
    return (Map<String, Object>) d;
  }

  static String resultOf(CallControlCommandResponse r) {
    return r == null || r.getData() == null ? null : r.getData().getResult();
  }

  static int closedPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
      return s.getLocalPort();
    }
  }

  // ------------------------------------------------------------------------------------------------

  static ApiClient api;
  static CallCommandsApi calls;
  static final List<String[]> placed = new ArrayList<>();

  static String[] newCall() throws Exception {
    int since = events.mark();
    Map<String, Object> call = sb("POST", "/switchboard/v1/virtual_calls", Map.of("from", CALLER, "to", APP_NUMBER));
    String callId = String.valueOf(call.get("id"));
    String ccid = String.valueOf(call.get("call_control_id"));
    Event initiated = events.waitFor("call.initiated", ccid, since, WAIT_MS);
    check("incoming".equals(initiated.payload.get("direction")), "call.initiated direction " + initiated.payload.get("direction"));
    CallControlCommandResponse answered = calls.callAnswer(ccid, new AnswerRequest());
    check("ok".equals(resultOf(answered)), "answer → " + answered);
    events.waitFor("call.answered", ccid, since, WAIT_MS);
    String[] c = {callId, ccid};
    placed.add(c);
    return c;
  }

  static String gatherUsingSpeak(String phone, String ccid, GatherUsingSpeakRequest req, String note) throws Exception {
    int since = events.mark();
    long before = count(phoneLog(phone), "prompt_started");
    String result = resultOf(calls.callGatherUsingSpeak(ccid, req));
    check("ok".equals(result), "result " + result);
    List<Map<String, Object>> log = waitPhone(phone, l -> count(l, "prompt_started") > before, "heard the spoken prompt");
    Map<String, Object> prompt = null;
    for (Map<String, Object> e : log) if ("prompt_started".equals(e.get("event"))) prompt = e;
    check(prompt != null && "say this on call".equals(prompt.get("text")), "prompt " + prompt);
    press(phone, "42#");
    Map<String, Object> p = events.waitFor("call.gather.ended", ccid, since, WAIT_MS).payload;
    check("valid".equals(p.get("status")) && "42".equals(p.get("digits")), "gather.ended " + p.get("status") + " " + p.get("digits"));
    return "CallCommandsApi.callGatherUsingSpeak" + note + " result=ok; phone heard 'say this on call'; call.gather.ended valid '42'";
  }

  static int run() throws Exception {
    baseUrl = System.getenv("SWITCHBOARD_URL");
    apiKey = System.getenv("TELNYX_API_KEY");
    String publicKey = System.getenv("TELNYX_PUBLIC_KEY");
    if (baseUrl == null || apiKey == null || publicKey == null) {
      System.err.println("SWITCHBOARD_URL, TELNYX_API_KEY and TELNYX_PUBLIC_KEY are required");
      return 2;
    }
    baseUrl = baseUrl.replaceAll("/+$", "");
    webhookKey = ed25519Key(publicKey);

    // Setup: the SDK's client with the base URL (".../v2") and the API key from the environment.
    api = client(baseUrl + "/v2", apiKey, 15_000);
    calls = new CallCommandsApi(api);

    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", Conformance::handle);
    server.setExecutor(Executors.newFixedThreadPool(4));
    server.start();
    String hook = "http://127.0.0.1:" + server.getAddress().getPort();
    String audioUrl = hook + "/prompt.wav";

    try {
      CreateCallControlApplicationRequest appReq = new CreateCallControlApplicationRequest();
      appReq.setApplicationName("java-conformance");
      appReq.setWebhookEventUrl(hook + "/webhooks");
      // 2.8.0's model defaults: anchorsite_override "\"Latency\"" (the quotes are part of the string: a generator bug
      // that a validating server rejects with 422) and webhook_api_version "1". Clear the one, ask for v2 webhooks.
      appReq.setAnchorsiteOverride(null);
      appReq.setWebhookApiVersion(CreateCallControlApplicationRequest.WebhookApiVersionEnum._2);
      String connectionId = new CallControlApplicationsApi(api).createCallControlApplication(appReq).getData().getId();
      sb("POST", "/switchboard/v1/numbers", Map.of("number", APP_NUMBER, "connection_id", connectionId));
      System.err.println("application " + connectionId + ", webhooks at " + hook);

      String[] c1 = newCall();
      String phone = c1[0], ccid = c1[1];

      // gather — seed: client.calls().actions().gather("call_control_id"), no other parameters.
      record("gather", () -> {
        int since = events.mark();
        Map<String, Object> res = dataOf(action(api, ccid, "gather", new LinkedHashMap<>()));
        check("ok".equals(res.get("result")), "result " + res.get("result"));
        press(phone, "1234#");
        Map<String, Object> p = events.waitFor("call.gather.ended", ccid, since, WAIT_MS).payload;
        check("valid".equals(p.get("status")) && "1234".equals(p.get("digits")), "gather.ended " + p.get("status") + " " + p.get("digits"));
        List<Object> dtmf = new ArrayList<>();
        for (Event e : events.all("call.dtmf.received", ccid, since)) dtmf.add(e.payload.get("digit"));
        check(dtmf.equals(List.of("1", "2", "3", "4", "#")), "dtmf.received " + dtmf);
        return "result=ok (no typed method in 2.8.0: ApiClient.invokeAPI); call.gather.ended valid '1234' after 5 call.dtmf.received";
      });

      // gather_stop — seed: stopGather("call_control_id").
      record("gather_stop", () -> {
        int since = events.mark();
        action(api, ccid, "gather", new LinkedHashMap<>());
        press(phone, "5");
        events.waitFor("call.dtmf.received", ccid, since, WAIT_MS);
        String result = resultOf(calls.callGatherStop(ccid, new StopGatherRequest()));
        check("ok".equals(result), "result " + result);
        Map<String, Object> p = events.waitFor("call.gather.ended", ccid, since, WAIT_MS).payload;
        check("cancelled".equals(p.get("status")) && "5".equals(p.get("digits")), "gather.ended " + p.get("status") + " " + p.get("digits"));
        return "CallCommandsApi.callGatherStop result=ok; call.gather.ended cancelled with '5'";
      });

      // gather_using_speak — seed: payload("say this on call"), voice("male"). 2.8.0 serialises its JsonNullable
      // "language" as an explicit null on every request; the literal call is recorded on its own, then the flow runs
      // with language set so the rest of the operation is still exercised.
      record("gather_using_speak", () -> {
        GatherUsingSpeakRequest req = new GatherUsingSpeakRequest();
        req.setPayload("say this on call");
        req.setVoice(GatherUsingSpeakRequest.VoiceEnum.MALE);
        return gatherUsingSpeak(phone, ccid, req, "");
      });
      record("gather_using_speak (language set: en-US)", () -> {
        GatherUsingSpeakRequest req = new GatherUsingSpeakRequest();
        req.setPayload("say this on call");
        req.setVoice(GatherUsingSpeakRequest.VoiceEnum.MALE);
        req.setLanguage(GatherUsingSpeakRequest.LanguageEnum.EN_US);
        return gatherUsingSpeak(phone, ccid, req, " with language en-US");
      });

      // gather_using_audio — seed: call_control_id only; then with audio_url adapted to our WAV.
      record("gather_using_audio (seed-literal, no audio_url)", () -> {
        try {
          int since = events.mark();
          String result = resultOf(calls.callGatherUsingAudio(ccid, new GatherUsingAudioRequest()));
          // Accepted (the contract requires no field): it gathers without a prompt. Stop it, and take its
          // call.gather.ended before the next operation starts watching for one.
          calls.callGatherStop(ccid, new StopGatherRequest());
          Map<String, Object> p = events.waitFor("call.gather.ended", ccid, since, WAIT_MS).payload;
          check("cancelled".equals(p.get("status")), "gather.ended " + p.get("status"));
          return "accepted: result=" + result + "; gathered with no prompt until gather_stop";
        } catch (ApiException e) {
          check(e.getCode() == 422, "expected 422, got " + e.getCode());
          Map<?, ?> body = JSON.readValue(e.getResponseBody(), Map.class);
          Object errs = body.get("errors");
          check(errs instanceof List && !((List<?>) errs).isEmpty() && ((List<?>) errs).get(0) instanceof Map, "422 without errors[]: " + e.getResponseBody());
          Map<?, ?> first = (Map<?, ?>) ((List<?>) errs).get(0);
          check(first.containsKey("code"), "errors[0] without code");
          Object src = first.get("source");
          return "422 " + first.get("code") + " at " + (src instanceof Map ? ((Map<?, ?>) src).get("pointer") : null) + ": '"
              + (first.get("detail") != null ? first.get("detail") : first.get("title")) + "' (2.8.0 sends \"audio_url\": null; no prompt given)";
        }
      });

      record("gather_using_audio", () -> {
        int since = events.mark();
        GatherUsingAudioRequest req = new GatherUsingAudioRequest();
        req.setAudioUrl(audioUrl);
        String result = resultOf(calls.callGatherUsingAudio(ccid, req));
        check("ok".equals(result), "result " + result);
        Event started = events.waitFor("call.playback.started", ccid, since, WAIT_MS);
        check(audioUrl.equals(started.payload.get("media_url")), "playback.started media_url " + started.payload.get("media_url"));
        press(phone, "7#");
        Map<String, Object> p = events.waitFor("call.gather.ended", ccid, since, WAIT_MS).payload;
        check("valid".equals(p.get("status")) && "7".equals(p.get("digits")), "gather.ended " + p.get("status") + " " + p.get("digits"));
        Map<String, Object> pe = events.waitFor("call.playback.ended", ccid, since, WAIT_MS).payload;
        return "CallCommandsApi.callGatherUsingAudio result=ok; call.playback.started/ended (" + pe.get("status") + "); call.gather.ended valid '7'";
      });

      // gather_using_ai — seed: parameters {properties:"bar", required:"bar", type:"bar"}; then a real JSON Schema.
      record("gather_using_ai (seed-literal parameters)", () -> {
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("properties", "bar");
        params.put("required", "bar");
        params.put("type", "bar");
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("parameters", params);
        try {
          Map<String, Object> res = dataOf(action(api, ccid, "gather_using_ai", body));
          calls.callGatherStop(ccid, new StopGatherRequest());
          return "accepted: conversation_id=" + res.get("conversation_id");
        } catch (ApiException e) {
          check(e.getCode() == 422, "expected 422, got " + e.getCode() + " " + e.getResponseBody());
          Map<?, ?> b = JSON.readValue(e.getResponseBody(), Map.class);
          Map<?, ?> first = (Map<?, ?>) ((List<?>) b.get("errors")).get(0);
          Object src = first.get("source");
          return "422 " + first.get("code") + " at " + (src instanceof Map ? ((Map<?, ?>) src).get("pointer") : null) + ": '" + first.get("detail")
              + "' (the seed's 'bar' placeholders are not a JSON Schema)";
        }
      });

      record("gather_using_ai", () -> {
        int since = events.mark();
        long before = count(phoneLog(phone), "prompt_started");
        Map<String, Object> schema = Map.of(
            "type", "object",
            "properties", Map.of("account_number", Map.of("type", "integer", "description", "your account number")),
            "required", List.of("account_number"));
        Map<String, Object> res = dataOf(action(api, ccid, "gather_using_ai", new LinkedHashMap<>(Map.of("parameters", schema))));
        Object conversationId = res.get("conversation_id");
        check(conversationId != null && !String.valueOf(conversationId).isEmpty(), "no conversation_id in " + res);
        waitPhone(phone, l -> count(l, "prompt_started") > before, "heard the AI question");
        press(phone, "4271#");
        Map<String, Object> p = events.waitFor("call.ai_gather.ended", ccid, since, 30_000).payload;
        Object result = p.get("result");
        check("valid".equals(p.get("status")) && result instanceof Map && Integer.valueOf(4271).equals(((Map<?, ?>) result).get("account_number")),
            "ai_gather.ended " + p.get("status") + " " + result);
        events.waitFor("call.conversation.ended", ccid, since, WAIT_MS);
        return "conversation_id=" + conversationId + "; call.ai_gather.ended valid " + result + "; call.conversation.ended";
      });

      // AI assistant — start / add_messages / stop exactly as the seed calls them (call_control_id only).
      String[] c2 = newCall();
      String ccid2 = c2[1];
      record("ai_assistant_start", () -> {
        Map<String, Object> res = dataOf(action(api, ccid2, "ai_assistant_start", new LinkedHashMap<>()));
        check("ok".equals(res.get("result")), "result " + res.get("result"));
        check(res.get("conversation_id") != null, "no conversation_id in " + res);
        return "result=ok conversation_id=" + res.get("conversation_id");
      });
      record("ai_assistant_add_messages", () -> {
        Map<String, Object> res = dataOf(action(api, ccid2, "ai_assistant_add_messages", new LinkedHashMap<>()));
        check("ok".equals(res.get("result")), "result " + res.get("result"));
        return "result=ok (no messages, as in the seed)";
      });
      record("ai_assistant_stop", () -> {
        int since = events.mark();
        Map<String, Object> res = dataOf(action(api, ccid2, "ai_assistant_stop", new LinkedHashMap<>()));
        check("ok".equals(res.get("result")), "result " + res.get("result"));
        Map<String, Object> p = events.waitFor("call.conversation.ended", ccid2, since, WAIT_MS).payload;
        return "result=ok; call.conversation.ended reason=" + p.get("reason");
      });

      // A full assistant flow: greeting, an added user message with a reply.
      String[] c3 = newCall();
      record("ai_assistant_start+add_messages+stop (greeting, messages)", () -> {
        String phone3 = c3[0], ccid3 = c3[1];
        int since = events.mark();
        long before = count(phoneLog(phone3), "prompt_started");
        Map<String, Object> start = new LinkedHashMap<>();
        start.put("greeting", "Hi, how can I help?");
        start.put("assistant", Map.of("id", "assistant-java", "instructions", "You are a bank assistant."));
        Map<String, Object> started = dataOf(action(api, ccid3, "ai_assistant_start", start));
        check(started.get("conversation_id") != null, "no conversation_id");
        waitPhone(phone3, l -> count(l, "prompt_started") > before, "heard the greeting");
        long heard = count(phoneLog(phone3), "prompt_started");
        Map<String, Object> add = new LinkedHashMap<>();
        add.put("messages", List.of(Map.of("role", "user", "content", "What is my balance?")));
        add.put("trigger_response", true);
        check("ok".equals(dataOf(action(api, ccid3, "ai_assistant_add_messages", add)).get("result")), "add_messages result");
        waitPhone(phone3, l -> count(l, "prompt_started") > heard, "heard the reply to the added message");
        action(api, ccid3, "ai_assistant_stop", new LinkedHashMap<>());
        Map<String, Object> ended = events.waitFor("call.conversation.ended", ccid3, since, WAIT_MS).payload;
        return "greeting heard, reply heard; call.conversation.ended reason=" + ended.get("reason");
      });

      // Hang up every call (CallCommandsApi.callHangup) and let call.hangup arrive.
      for (String[] c : placed) {
        try {
          int since = events.mark();
          calls.callHangup(c[1], new HangupRequest());
          events.waitFor("call.hangup", c[1], since, 10_000);
        } catch (Exception e) {
          System.err.println("hangup " + c[1] + ": " + describe(e));
        }
      }

      // Webhook verification (Telnyx Ed25519; 2.8.0 has no verifier of its own).
      record("webhook verification (Ed25519, telnyx-signature-ed25519 + telnyx-timestamp)", () -> {
        List<String> failed;
        int verified;
        Event sample;
        synchronized (events) {
          failed = new ArrayList<>(events.failed);
          verified = events.verified;
          sample = events.items.isEmpty() ? null : events.items.get(events.items.size() - 1);
        }
        check(verified > 0 && sample != null, "no webhook received");
        check(failed.isEmpty(), failed.size() + " deliveries failed verification: " + failed.subList(0, Math.min(3, failed.size())));
        boolean tamperedRejected = false;
        try {
          verify(sample.raw.replaceFirst("\"event_type\"", "\"event_type\" "), sample.timestamp, sample.signature);
        } catch (SecurityException e) {
          tamperedRejected = true;
        }
        check(tamperedRejected, "a tampered body verified");
        boolean staleRejected = false;
        try {
          verify(sample.raw, String.valueOf(System.currentTimeMillis() / 1000 - 3600), sample.signature);
        } catch (SecurityException e) {
          staleRejected = true;
        }
        check(staleRejected, "a stale timestamp verified");
        return verified + " deliveries verified, 0 failed; tampered body and stale timestamp rejected";
      });

      // Error classes. 2.8.0 maps every failure to ApiException: getCode() is the HTTP status, 0 with a cause when
      // there was no response. (The seed's Stainless SDK would raise TelnyxIoException, UnauthorizedException,
      // NotFoundException, UnprocessableEntityException, RateLimitException.) 2.8.0 never retries (max retries 0).
      int port = closedPort();
      expect("connection error (TelnyxIoException)", () -> {
        new CallCommandsApi(client("http://127.0.0.1:" + port + "/v2", apiKey, 5_000)).callGatherStop(ccid, new StopGatherRequest());
        return null;
      }, 0);
      expect("401 (UnauthorizedException)", () -> {
        new CallControlApplicationsApi(client(baseUrl + "/v2", "KEYnot-a-real-key", 10_000)).listCallControlApplications().execute();
        return null;
      }, 401);
      expect("404 (NotFoundException)", () -> {
        new RecordingsCommandsApi(api).retrieveRecording("unknown");
        return null;
      }, 404);
      String[] c4 = newCall();
      expect("422 (UnprocessableEntityException)", () -> {
        // gather_using_speak without its required voice and payload.
        calls.callGatherUsingSpeak(c4[1], new GatherUsingSpeakRequest());
        return null;
      }, 422);
      try {
        calls.callHangup(c4[1], new HangupRequest());
      } catch (Exception e) {
        System.err.println("hangup " + c4[1] + ": " + describe(e));
      }
      String[] retryAfter = {"?"};
      expect("429 (RateLimitException)", () -> {
        CallControlApplicationsApi limited = new CallControlApplicationsApi(client(baseUrl + "/v2", apiKey, 10_000));
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
          List<Future<Object>> fs = new ArrayList<>();
          for (int i = 0; i < 60; i++) fs.add(pool.submit(() -> {
            try {
              limited.listCallControlApplications().execute();
              return null;
            } catch (ApiException e) {
              return e;
            }
          }));
          ApiException other = null;
          for (Future<Object> f : fs) {
            Object r = f.get(30, TimeUnit.SECONDS);
            if (r instanceof ApiException e) {
              if (e.getCode() == 429) {
                Map<String, List<String>> h = e.getResponseHeaders();
                if (h != null) for (var en : h.entrySet()) if (en.getKey() != null && en.getKey().equalsIgnoreCase("retry-after")) retryAfter[0] = String.valueOf(en.getValue());
                throw e;
              }
              other = e;
            }
          }
          if (other != null) throw other;
        } finally {
          pool.shutdownNow();
        }
        return null;
      }, 429);
      if (Boolean.TRUE.equals(errors.get(errors.size() - 1).get("ok"))) {
        errors.get(errors.size() - 1).put("detail", errors.get(errors.size() - 1).get("detail") + "; retry-after=" + retryAfter[0]);
      }
      return 0;
    } finally {
      server.stop(0);
      ((ExecutorService) server.getExecutor()).shutdownNow();
    }
  }

  public static void main(String[] args) throws Exception {
    Thread watchdog = new Thread(() -> {
      try {
        Thread.sleep(240_000);
      } catch (InterruptedException e) {
        return;
      }
      System.out.println(report("watchdog: run exceeded 240s"));
      System.out.flush();
      Runtime.getRuntime().halt(3);
    });
    watchdog.setDaemon(true);
    watchdog.start();
    int rc = 1;
    String fatal = null;
    try {
      rc = run();
    } catch (Throwable e) {
      fatal = describe(e);
      e.printStackTrace();
    }
    boolean allOk = fatal == null && rc == 0 && !operations.isEmpty() && !errors.isEmpty()
        && operations.stream().allMatch(o -> Boolean.TRUE.equals(o.get("ok")))
        && errors.stream().allMatch(o -> Boolean.TRUE.equals(o.get("ok")));
    System.out.println(report(fatal));
    System.out.flush();
    System.exit(allOk ? 0 : 1);
  }

  static synchronized String report(String fatal) {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("language", "java");
    r.put("sdk_version", SDK_VERSION);
    r.put("operations", operations);
    r.put("errors", errors);
    if (fatal != null) r.put("fatal", fatal);
    try {
      return JSON.writeValueAsString(r);
    } catch (Exception e) {
      return "{\"language\":\"java\",\"fatal\":\"report serialisation failed\"}";
    }
  }
}
