/**
 * Plugin settings reach plugins as strings. Navidrome decodes them with viper's weakly typed
 * mapstructure, so this spells values the way Go does there: booleans as "1"/"0", integers in
 * decimal, floats as strconv.FormatFloat(f, 'f', -1, 64) (shortest digits, never an exponent).
 */
export function pluginSettingText(value: string | number | boolean): string {
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return value ? "1" : "0";
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return withoutExponent(String(value));
}

/** JavaScript and Go agree on the shortest digits; only JavaScript switches to `1e-7` / `1e+21`. */
function withoutExponent(text: string): string {
  const match = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!match) return text;
  const [, sign = "", lead = "", fraction = "", exponentText = "0"] = match;
  const digits = lead + fraction;
  const point = lead.length + Number(exponentText);
  if (point <= 0) return `${sign}0.${"0".repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${"0".repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}
