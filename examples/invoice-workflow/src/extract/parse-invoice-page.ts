/**
 * Turns the text lines of one invoice page into fields. The rules read what a person reads: the
 * letterhead (vendor), labelled header fields, table rows ending in quantity, unit price and amount,
 * and the totals block. A page shows only some of them; the rest stay null and aggregate-service
 * merges the pages.
 */
import type { LineItem, PageExtraction } from '../shared/models.js';

const MONEY = String.raw`-?\d{1,3}(?:,\d{3})*\.\d{2}`;
const ROW = new RegExp(String.raw`^(.+?) (\d+(?:\.\d+)?) (${MONEY}) (${MONEY})$`);
const SUBTOTAL = new RegExp(String.raw`^Subtotal (${MONEY})$`, 'i');
const TAX = new RegExp(String.raw`^(?:VAT|Tax)(?: \d+(?:\.\d+)?%)? (${MONEY})$`, 'i');
const TOTAL = new RegExp(String.raw`^Total(?: [A-Z]{3})? (${MONEY})$`, 'i');
const LETTERHEAD = /^(.+?) (?:INVOICE|Invoice (\S+) - continued)$/;

/** `1,234.50` → 1234.5 */
export function parseMoney(text: string): number {
  return Number(text.replace(/,/g, ''));
}

function labelled(lines: string[], label: string): string | null {
  const prefix = `${label}:`;
  const line = lines.find((l) => l.toLowerCase().startsWith(prefix.toLowerCase()));
  return line ? line.slice(prefix.length).trim() || null : null;
}

/** Extracts the fields of page `pageNumber` from its lines. */
export function parseInvoicePage(pageNumber: number, lines: string[]): PageExtraction {
  let vendor: string | null = null;
  let continuedNumber: string | null = null;
  const head = lines[0] ? LETTERHEAD.exec(lines[0]) : null;
  if (head) {
    vendor = head[1] ?? null;
    continuedNumber = head[2] ?? null;
  }
  const lineItems: LineItem[] = [];
  let subtotal: number | null = null;
  let tax: number | null = null;
  let total: number | null = null;
  for (const line of lines) {
    let m: RegExpExecArray | null;
    if ((m = SUBTOTAL.exec(line))) subtotal = parseMoney(m[1] ?? '');
    else if ((m = TAX.exec(line))) tax = parseMoney(m[1] ?? '');
    else if ((m = TOTAL.exec(line))) total = parseMoney(m[1] ?? '');
    else if ((m = ROW.exec(line))) {
      lineItems.push({
        description: (m[1] ?? '').trim(),
        quantity: Number(m[2]),
        unit_price: parseMoney(m[3] ?? ''),
        amount: parseMoney(m[4] ?? ''),
      });
    }
  }
  return {
    page_number: pageNumber,
    invoice_number: labelled(lines, 'Invoice number') ?? continuedNumber,
    invoice_date: labelled(lines, 'Invoice date'),
    vendor,
    currency: labelled(lines, 'Currency'),
    line_items: lineItems,
    subtotal,
    tax,
    total,
    text_length: lines.join('\n').length,
  };
}
