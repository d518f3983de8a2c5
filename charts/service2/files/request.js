// `helm test` request: runs inside the service's own image (no shell, no curl), as the Bun
// runtime the binary embeds (BUN_BE_BUN=1). GETs TARGET_URL through the Service and passes when
// the answer is 200 JSON holding every field named in EXPECT_FIELDS.
const url = process.env.TARGET_URL;
const fields = (process.env.EXPECT_FIELDS ?? "").split(",").filter(Boolean);
const attempts = 5;
for (let attempt = 1; ; attempt++) {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
    const body = await response.json();
    const missing = fields.filter((field) => !(field in body));
    if (response.status === 200 && missing.length === 0) {
      console.log(`ok: GET ${url} -> ${JSON.stringify(body)}`);
      process.exit(0);
    }
    console.error(`attempt ${attempt}/${attempts}: GET ${url} -> ${response.status} ${JSON.stringify(body)}`);
  } catch (error) {
    console.error(`attempt ${attempt}/${attempts}: GET ${url} failed: ${error}`);
  }
  if (attempt === attempts) process.exit(1);
  await Bun.sleep(1000);
}
