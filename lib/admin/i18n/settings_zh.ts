/**
 * Settings in Simplified Chinese: each setting's label and description (English comes from the
 * settings schema itself). `tests/i18n_test.ts` fails when a setting is missing here.
 *
 * @module
 */

/** Setting name -> [label, description]. */
export const ZH_SETTINGS: Readonly<Record<string, readonly [string, string]>> = {
  allowedTokens: [
    "允许的令牌",
    "网关接受的客户端令牌（Authorization: Bearer、x-goog-api-key、x-api-key 或 ?key=），每个至少 8 个字符。",
  ],
  trustedProxies: [
    "受信任的反向代理",
    "反向代理的 IP 地址或 CIDR 网段（例如 127.0.0.1、10.0.0.0/8），它们的 X-Forwarded-For 可信：来自它们的请求算作来自该头中它们之前的最后一个地址（管理登录失败减速、客户端令牌失败限流和请求日志都按客户端地址进行）。留空：使用连接的地址。",
  ],
  authFailuresPerMinute: [
    "每分钟允许的认证失败次数",
    "每个客户端地址每分钟允许的令牌校验失败次数；超过后该地址在这一分钟内直接得到 429，不再校验（0 = 不限）。",
  ],
  upstreamBaseUrl: ["上游地址", "Gemini 请求发往的地址。"],
  maxAttempts: ["最大尝试次数", "一个请求在放弃前最多尝试多少个密钥。"],
  requestTimeoutMs: [
    "请求超时（毫秒）",
    "单次尝试中等待上游回答开始（响应头；流式为第一个字节）的最长时间。足够 Gemini 3 Pro 思考数分钟；超时后请求以 504 结束，不会再次发送（见 RESEND_AFTER_TIMEOUT）。",
  ],
  maxBodyBytes: ["最大请求体（字节）", "允许的最大请求体；更大的请求得到 413。"],
  defaultCooldownMs: ["默认冷却时间（毫秒）", "429 未给出重试时间时的冷却时间。"],
  maxWaitMs: ["最长等待（毫秒）", "所有密钥都在冷却时，最多等待这么久让某个密钥空闲。"],
  transientBackoffMaxMs: ["最长错误退避（毫秒）", "持续返回 5xx 的密钥的最长退避时间。"],
  quotaWindowMs: ["配额窗口（毫秒）", "Google 每分钟配额窗口的长度（60000）；只有模拟时才设得更短。"],
  recheckIntervalMs: ["重新检查间隔（毫秒）", "停用和无权访问的密钥多久重新检查一次（0 = 从不）。"],
  allowPrivateImageHosts: [
    "允许内网图片地址",
    "允许 OpenAI 聊天提示中的图片 URL 指向本机或内网主机（有 SSRF 风险；默认关闭）。",
  ],
  logsEnabled: ["启用日志", "保留请求日志。"],
  webhookUrl: [
    "Webhook 地址",
    "运维通知的 Webhook（JSON POST，失败时退避重试）：密钥被停用、某个模型没有可用密钥、客户端令牌达到每日配额。留空 = 关闭。",
  ],
  prices: [
    "价格",
    "仪表盘费用估算使用的价格，按模型设置（精确 ID 或 前缀*，最长匹配优先），单位为你的货币 / 每百万输入和输出 token。留空 = 不估算。",
  ],
  logRetentionHours: ["日志保留（小时）", "日志条目保留多久。"],
  searchSuffix: [
    "-search 后缀",
    "接受以 -search 结尾的模型名：添加 Google 搜索接地（tools: [{googleSearch:{}}]）。",
  ],
  searchLinks: ["搜索来源链接", "在 OpenAI 路由上，为使用搜索的回答附上接地来源（标题 + 链接列表）。"],
  imageSuffix: [
    "-image 后缀",
    "对能输出图片的模型，接受以 -image 结尾的模型名（添加 responseModalities TEXT+IMAGE）。",
  ],
  imageOutputModels: [
    "可输出图片的模型",
    "在请求时可以输出图片的基础模型（精确 ID 或以 * 结尾的前缀）。ID 中包含 '-image' 的模型始终视为图片模型。",
  ],
  thinkingSuffixes: [
    "思考后缀",
    "接受以 -thinking（开启思考并返回思考内容）和 -nothinking（关闭或最少）结尾的模型名。",
  ],
  thinkingDefaults: [
    "默认思考配置",
    '客户端未发送时使用的 thinkingConfig，按模型前缀设置（最长前缀优先），例如 {"gemini-2.5-flash": {"thinkingBudget": 0}}。',
  ],
  aliases: [
    "模型别名",
    '客户端可以发送的模型名，映射到真实模型（可带后缀），例如 {"gpt-4o": "gemini-2.5-flash"}。',
  ],
  hiddenModels: ["隐藏的模型", "不出现在模型列表中的模型（精确 ID 或以 * 结尾的前缀）。仍然可以调用。"],
  listVariants: ["列出变体", "在模型列表中显示带后缀的变体（-search、-thinking、-nothinking、-image）。"],
  defaultSafetySettings: ["默认安全设置", "仅在客户端未发送时由网关添加的 safetySettings（null = 不添加）。"],
  codeExecutionModels: [
    "代码执行模型",
    "获得代码执行工具（{codeExecution:{}}）的模型，精确 ID 或 前缀*；请求中有函数声明时跳过（Gemini 不允许混用）。",
  ],
  urlContextModels: [
    "URL 上下文模型",
    "获得 URL 上下文工具（{urlContext:{}}）的模型，精确 ID 或 前缀*；请求中有函数声明时跳过。",
  ],
  smoother: ["平滑输出", "把较大的流式文本增量重新切成均匀输出的小块。"],
  smootherChunkChars: ["平滑块大小（字符）", "每个平滑文本块的目标大小（字符数）。"],
  smootherMaxDelayMs: ["平滑最大间隔（毫秒）", "平滑器在两块之间添加的最长停顿。"],
  smootherBudgetMs: ["平滑总预算（毫秒）", "平滑器对一个回答最多添加的总延迟；超过后立即发送剩余内容。"],
  keepAliveMs: [
    "保活间隔（毫秒）",
    "在翻译格式的路由（OpenAI）上，无输出达到这么多毫秒后发送 SSE 保活（注释或空块）（0 = 关闭）。原生 Gemini 流从不发送：Google 不发送，它的 SDK 遇到它不发送的行会出错。",
  ],
  ttsModel: ["TTS 模型", "OpenAI 语音模型（tts-1、gpt-4o-mini-tts）使用的 Gemini TTS 模型。"],
  ttsHdModel: ["高清 TTS 模型", "tts-1-hd 使用的 Gemini TTS 模型。"],
  proxies: [
    "上游代理",
    "上游 HTTP 代理（http、https、socks5）。每个 API 密钥固定使用一个代理；失败的代理在 proxyDownMs 内被跳过。",
  ],
  proxyDownMs: ["代理跳过时间（毫秒）", "失败的代理被跳过多久。"],
  port: ["端口", "监听的端口。"],
  host: ["监听地址", "监听的网络接口；默认 0.0.0.0 表示所有接口（127.0.0.1 表示只接受本机）。"],
  geminiApiKeys: ["Gemini API 密钥", "启动时加入密钥池的 Gemini API 密钥（每个都是 AIza 加 35 个字符）。"],
  adminToken: ["管理令牌", "管理面板的令牌（至少 12 个字符）；未设置时在首次启动时生成。"],
  kvPath: ["KV 路径", "Deno KV 的位置：文件路径、:memory: 或 KV Connect URL。"],
  shutdownGraceMs: ["关闭宽限期（毫秒）", "收到 SIGTERM 后，进行中的流还可以继续多久。"],
  syncIntervalMs: ["同步间隔（毫秒）", "多久轮询一次 KV，以获取其他进程做的修改。"],
  corsOrigins: [
    "CORS 来源",
    "允许在浏览器中调用 API 路由的网页来源（CORS），例如 https://app.example.com；* 允许任何来源，空列表则都不允许。从不适用于 /admin。",
  ],
  vertexBaseUrl: [
    "Vertex 上游地址",
    "由 Vertex AI 快速模式密钥处理的请求发往的地址。",
  ],
  keyKindRouting: [
    "密钥类型路由",
    "模型调用如何在 Gemini API 密钥和 Vertex AI 快速模式密钥之间选择：mix（两种密钥一起轮询）、gemini_first 或 vertex_first（只有第一种密钥都不能处理时才用另一种）。Vertex 快速模式不能处理的请求（文件、缓存、批处理等）始终发往 Gemini API 密钥。",
  ],
  idleTimeoutMs: [
    "空闲超时（毫秒）",
    "上游回答的响应头到达后，两段字节之间的最长停顿，非流式和流式都适用（0 = 不限）。停滞的回答随后以客户端可见的错误结束，该密钥记一次临时失败。",
  ],
  requestDeadlineMs: [
    "请求总期限（毫秒）",
    "一个请求所有尝试和等待合计的总期限，直到回答开始（非流式回答：直到读完）。之后流式回答只按 IDLE_TIMEOUT_MS 判断。",
  ],
  resendAfterTimeout: [
    "超时后重发",
    "上游超时（REQUEST_TIMEOUT_MS 或 IDLE_TIMEOUT_MS）后把请求再发给另一个密钥。默认关闭：第一次调用可能仍在生成，付两次费用对客户端没有好处。",
  ],
  answerBufferBytes: [
    "回答缓冲（字节）",
    "不超过此大小的非流式回答会先完整读取再交给客户端，这样中途断开的连接可以在另一个密钥上重试；更大的回答边到达边转发（每个请求的内存保持在此上限以下）。",
  ],
  clientBodyTimeoutMs: [
    "客户端请求体超时（毫秒）",
    "客户端发送请求体的最长时间（0 = 不限）；更慢的请求体以 408 中断。",
  ],
  claudeModelMap: [
    "Claude 模型映射",
    "Claude 模型名（Anthropic 路由：Claude Code、Anthropic SDK）映射到 Gemini 模型：名称模式（* 匹配任意文本，不区分大小写，第一个匹配优先）对应一个模型（可带后缀和别名）。没有模式匹配的名称（Gemini 名称）原样通过。",
  ],
  responsesRetentionHours: [
    "Responses 保留时间（小时）",
    "OpenAI Responses 路由存储的回答（store: true）为 GET 和 previous_response_id 保留多久；只有创建它们的客户端令牌可见（0 = 不存储）。",
  ],
  retryEmptyAnswers: [
    "重试空回答",
    "在翻译回答的路由（OpenAI）上，Gemini 返回 200 但内容为空（没有内容也没有拦截原因）时，在另一个密钥上重试一次。",
  ],
  retryEmptyAnswersNative: [
    "原生路由也重试空回答",
    "在原生 Gemini 路由上也重试空回答（关闭：Google 的回答原样通过）。",
  ],
  thoughtSignatureTtlHours: [
    "思考签名保留时间（小时）",
    "翻译后回答的思考签名为下一轮保留多久（存于 KV，所有实例共享）；工具调用 ID 只带一个指向它们的短引用。",
  ],
  liveEnabled: [
    "启用 Live API",
    "提供 Gemini Live API 会话（WebSocket，/ws/google.ai.generativelanguage.*.GenerativeService.BidiGenerateContent）和临时令牌（POST /v1alpha/auth_tokens）。",
  ],
  liveMaxFrameBytes: [
    "Live 最大消息（字节）",
    "Live 客户端可以发送的最大 WebSocket 消息（字节）；更大的消息以 1009 关闭会话。",
  ],
  liveMaxSessionsPerToken: [
    "每个令牌的 Live 会话数",
    "一个客户端令牌在本实例上同时可以保持打开的最多 Live 会话数（0 = 不限）。",
  ],
  liveSetupTimeoutMs: [
    "Live 设置超时（毫秒）",
    "WebSocket 打开后，Live 客户端发送设置消息的时限（毫秒）；仍未发送的会话被关闭（1008），并释放它在 LIVE_MAX_SESSIONS_PER_TOKEN 中占用的名额。",
  ],
};
