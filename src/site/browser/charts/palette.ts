/** One palette for every chart and legend, readable on light and dark backgrounds (Observable 10). */
export const PALETTE = ['#4269d0', '#efb118', '#ff725c', '#6cc5b0', '#3ca951', '#ff8ab7', '#a463f2', '#97bbf5', '#9c6b4e', '#9498a0']
export const colorOf = (i: number): string => PALETTE[i % PALETTE.length]!
