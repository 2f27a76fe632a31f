/** Indented detail lines under a benchmark group's heading (what a number is made of). */
export function detail(text: string): void {
  console.log(`    ${text}`);
}

/** Bytes as MB with one decimal. */
export const mb = (bytes: number): string => (bytes / (1024 * 1024)).toFixed(1);
