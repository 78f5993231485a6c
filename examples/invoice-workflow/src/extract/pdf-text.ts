/**
 * Reads the text of a PDF page with pdfjs-dist (Mozilla's PDF engine, legacy build for Node) and
 * rebuilds visual lines: text items sharing a baseline, left to right. Table columns drawn as separate
 * items come out as one line with single spaces between the cells.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';

const require = createRequire(import.meta.url);
// Fonts for the standard 14 (Helvetica …), so pdfjs does not warn about fetching them.
const STANDARD_FONTS = `${path.join(path.dirname(require.resolve('pdfjs-dist/package.json')), 'standard_fonts')}${path.sep}`;

interface PositionedText {
  str: string;
  x: number;
  y: number;
}

/** Groups items into lines: same baseline (within a point), ordered top to bottom, left to right. */
export function toLines(items: PositionedText[]): string[] {
  const rows = new Map<number, PositionedText[]>();
  for (const item of items) {
    if (!item.str.trim()) continue;
    const key = [...rows.keys()].find((y) => Math.abs(y - item.y) < 1) ?? item.y;
    rows.set(key, [...(rows.get(key) ?? []), item]);
  }
  return [...rows.entries()]
    .sort(([a], [b]) => b - a)
    .map(([, row]) =>
      row
        .sort((a, b) => a.x - b.x)
        .map((i) => i.str.trim())
        .join(' '),
    );
}

/** The text lines of every page of `data` (a whole PDF; one-page PDFs give one entry). */
export async function readPdfLines(data: Uint8Array): Promise<string[][]> {
  // pdfjs takes ownership of the buffer; give it a copy.
  const task = getDocument({ data: new Uint8Array(data), standardFontDataUrl: STANDARD_FONTS, verbosity: 0, isEvalSupported: false });
  const doc = await task.promise;
  try {
    const pages: string[][] = [];
    for (let n = 1; n <= doc.numPages; n++) {
      const page = await doc.getPage(n);
      const content = await page.getTextContent();
      const items: PositionedText[] = [];
      for (const item of content.items) {
        if ('str' in item) items.push({ str: item.str, x: item.transform[4] as number, y: item.transform[5] as number });
      }
      pages.push(toLines(items));
      page.cleanup();
    }
    return pages;
  } finally {
    await task.destroy();
  }
}
